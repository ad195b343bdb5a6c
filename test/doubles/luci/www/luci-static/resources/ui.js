'use strict';
'require view';
'require dom';
'require request';
'require baseclass';

/*
 * TEST DOUBLE of LuCI's ui.js: notifications, the modal, handler functions, the apply flow
 * (admin/uci/apply_rollback then admin/uci/confirm, 'uci-applied', page reload) and the
 * widgets form.js needs (Textfield, Checkbox, Select, DynamicList) with LuCI's validation
 * behaviour: an invalid input gets the class cbi-input-invalid and its message in
 * data-tooltip, shown as an error tooltip on hover or focus.
 */

var modalDiv = null, tooltipDiv = null;

function modal() {
	if (!modalDiv) {
		modalDiv = document.body.appendChild(E('div', { 'id': 'modal_overlay' }, [
			E('div', { 'class': 'modal', 'role': 'dialog', 'aria-modal': 'true' })
		]));
	}
	return modalDiv.firstElementChild;
}

function showTooltip(ev) {
	var target = ev.target && ev.target.closest ? ev.target.closest('[data-tooltip]') : null;
	if (!target)
		return;
	tooltipDiv = tooltipDiv || document.body.appendChild(E('div', { 'class': 'cbi-tooltip' }));
	var rect = target.getBoundingClientRect();
	tooltipDiv.className = 'cbi-tooltip ' + (target.getAttribute('data-tooltip-style') || '');
	tooltipDiv.textContent = '\u25b2 ' + target.getAttribute('data-tooltip');
	tooltipDiv.style.top = (rect.bottom + window.pageYOffset) + 'px';
	tooltipDiv.style.left = (rect.left + window.pageXOffset) + 'px';
	tooltipDiv.style.opacity = 1;
}

function hideTooltip(ev) {
	if (tooltipDiv && !(ev.relatedTarget && tooltipDiv.contains(ev.relatedTarget)))
		tooltipDiv.style.opacity = 0;
}

document.addEventListener('mouseover', showTooltip, true);
document.addEventListener('mouseout', hideTooltip, true);
document.addEventListener('focus', showTooltip, true);
document.addEventListener('blur', hideTooltip, true);

/* Widgets: value, options { id, optional, validate, placeholder, password, disabled } */
var UIElement = baseclass.extend({
	__init__: function(value, options) {
		this.value = value;
		this.options = Object.assign({ optional: true }, options);
		this.validState = true;
		this.validationError = '';
	},
	getValidationError: function() { return this.validationError || ''; },
	isValid: function() { return this.validState !== false; },
	isChanged: function() { return String(this.getValue()) !== String(this.value == null ? '' : this.value); },

	// The node that carries the validation marks (LuCI marks the input itself).
	validationNode: function() { return this.node.querySelector('input, select') || this.node; },

	/* as LuCI's validator: an empty value must be optional, then the option's validate() runs
	   (for empty values too) */
	checkValue: function(value) {
		var empty = (value == null || value === '' || (Array.isArray(value) && !value.length));
		if (empty && !this.options.optional)
			return _('Expecting: %s').format(_('non-empty value'));
		if (typeof this.options.validate == 'function') {
			var res = this.options.validate(value);
			if (res !== true)
				return (typeof res == 'string') ? res : _('Invalid value');
		}
		return true;
	},

	triggerValidation: function() {
		var field = this.validationNode(), res = this.checkValue(this.getValue());
		this.validState = (res === true);
		this.validationError = (res === true) ? '' : res;
		field.classList.toggle('cbi-input-invalid', res !== true);
		if (res === true) {
			field.removeAttribute('data-tooltip');
			field.removeAttribute('data-tooltip-style');
		}
		else {
			field.setAttribute('data-tooltip', res);
			field.setAttribute('data-tooltip-style', 'error');
		}
		field.dispatchEvent(new CustomEvent(res === true ? 'validation-success' : 'validation-failure',
			{ bubbles: true, detail: { message: res } }));
		return this.validState;
	},

	/* as LuCI: "update" events (typing, clicking) validate, "change" events tell the form */
	setUpdateEvents: function(target) {
		var self = this, events = Array.prototype.slice.call(arguments, 1);
		events.forEach(function(evname) {
			target.addEventListener(evname, function() {
				self.triggerValidation();
				self.node.dispatchEvent(new CustomEvent('widget-update', { bubbles: true }));
			});
		});
	},

	setChangeEvents: function(target) {
		var self = this, events = Array.prototype.slice.call(arguments, 1);
		events.forEach(function(evname) {
			target.addEventListener(evname, function() {
				self.node.dispatchEvent(new CustomEvent('widget-change', { bubbles: true }));
			});
		});
	},

	finish: function(node) {
		this.node = node;
		dom.bindClassInstance(node, this);
		this.triggerValidation();
		return node;
	}
});

var UITextfield = UIElement.extend({
	render: function() {
		var o = this.options;
		this.input = E('input', {
			'id': o.id, 'type': o.password ? 'password' : 'text', 'class': o.password ? 'cbi-input-password' : 'cbi-input-text',
			'placeholder': o.placeholder || null, 'disabled': o.disabled || null, 'value': this.value == null ? '' : this.value
		});
		var node = E('div', { 'id': o.id ? o.id + '-wrap' : null }, [ this.input ]);
		this.node = node;
		this.setUpdateEvents(this.input, 'keyup', 'blur');
		this.setChangeEvents(this.input, 'change');
		return this.finish(node);
	},
	getValue: function() { return this.input.value; },
	setValue: function(v) { this.input.value = (v == null) ? '' : v; this.triggerValidation(); }
});

var UICheckbox = UIElement.extend({
	render: function() {
		var o = this.options, on = o.value_enabled || '1';
		this.input = E('input', { 'id': o.id, 'type': 'checkbox', 'value': on, 'disabled': o.disabled || null });
		this.input.checked = (this.value == on);
		var node = E('div', { 'class': 'cbi-checkbox' }, [ this.input, E('label', { 'for': o.id }) ]);
		this.node = node;
		this.setUpdateEvents(this.input, 'click', 'blur');
		this.setChangeEvents(this.input, 'change');
		return this.finish(node);
	},
	isChecked: function() { return this.input.checked; },
	getValue: function() { return this.input.checked ? (this.options.value_enabled || '1') : (this.options.value_disabled || '0'); },
	setValue: function(v) { this.input.checked = (v == (this.options.value_enabled || '1')); }
});

var UISelect = UIElement.extend({
	__init__: function(value, choices, options) {
		this.super('__init__', [ value, options ]);
		this.choices = choices || {};
	},
	render: function() {
		var o = this.options, keys = Object.keys(this.choices), self = this;
		if (o.sort)
			keys.sort();
		this.input = E('select', { 'id': o.id, 'class': 'cbi-input-select', 'disabled': o.disabled || null },
			(o.optional || !keys.length ? [ E('option', { 'value': '' }, [ _('-- Please choose --') ]) ] : []).concat(
				keys.map(function(k) { return E('option', { 'value': k }, [ String(self.choices[k]) ]); })));
		this.input.value = (this.value == null) ? (o.optional ? '' : (keys[0] || '')) : this.value;
		var node = E('div', {}, [ this.input ]);
		this.node = node;
		this.setUpdateEvents(this.input, 'change', 'click', 'blur');
		this.setChangeEvents(this.input, 'change');
		return this.finish(node);
	},
	getValue: function() { return this.input.value; },
	setValue: function(v) { this.input.value = v; this.triggerValidation(); }
});

var UIDynamicList = UIElement.extend({
	render: function() {
		var o = this.options, self = this;
		this.items = L.toArray(this.value).slice();
		this.list = E('div', { 'class': 'cbi-dynlist-items' });
		this.input = E('input', { 'id': o.id, 'type': 'text', 'class': 'cbi-input-text', 'placeholder': o.placeholder || null, 'disabled': o.disabled || null });
		var add = function() {
			var v = self.input.value.trim();
			if (v === '')
				return;
			var res = self.checkValue(v);
			if (res !== true) {
				self.input.classList.add('cbi-input-invalid');
				self.input.setAttribute('data-tooltip', res);
				self.input.setAttribute('data-tooltip-style', 'error');
				return;
			}
			self.items.push(v);
			self.input.value = '';
			self.redraw();
			self.triggerValidation();
			self.node.dispatchEvent(new CustomEvent('widget-change', { bubbles: true }));
		};
		this.input.addEventListener('keydown', function(ev) { if (ev.key == 'Enter') { ev.preventDefault(); add(); } });
		var node = E('div', { 'class': 'cbi-dynlist' }, [
			this.list,
			E('div', { 'class': 'add-item' }, [ this.input, E('button', { 'class': 'cbi-button cbi-button-add', 'click': function(ev) { ev.preventDefault(); add(); } }, [ '+' ]) ])
		]);
		this.node = node;
		this.redraw();
		return this.finish(node);
	},
	redraw: function() {
		var self = this;
		dom.content(this.list, this.items.map(function(v, i) {
			return E('div', { 'class': 'item' }, [
				E('span', {}, [ v ]),
				E('button', { 'class': 'cbi-button cbi-button-remove', 'title': _('Remove'), 'click': function(ev) {
					ev.preventDefault();
					self.items.splice(i, 1);
					self.redraw();
					self.triggerValidation();
					self.node.dispatchEvent(new CustomEvent('widget-change', { bubbles: true }));
				} }, [ '\u00d7' ])
			]);
		}));
	},
	checkValue: function(value) {
		if (Array.isArray(value)) {
			for (var i = 0; i < value.length; i++) {
				var r = UIElement.prototype.checkValue.call(this, value[i]);
				if (r !== true) return r;
			}
			return (value.length || this.options.optional) ? true : _('Expecting: %s').format(_('non-empty value'));
		}
		return UIElement.prototype.checkValue.call(this, value);
	},
	getValue: function() { return this.items.slice(); },
	setValue: function(v) { this.items = L.toArray(v).slice(); this.redraw(); }
});

var UI = baseclass.extend({
	Textfield: UITextfield,
	Checkbox: UICheckbox,
	Select: UISelect,
	DynamicList: UIDynamicList,

	showModal: function(title, children) {
		var dlg = modal();
		dlg.setAttribute('class', 'modal');
		dom.content(dlg, E('h4', {}, [ title ]));
		dom.append(dlg, children);
		document.body.classList.add('modal-overlay-active');
		return dlg;
	},

	hideModal: function() {
		document.body.classList.remove('modal-overlay-active');
	},

	addNotification: function(title, children) {
		var mc = document.querySelector('#maincontent') || document.body;
		var msg = E('div', { 'class': 'alert-message fade-in', 'style': 'display:flex' }, [
			E('div', { 'style': 'flex:10' }),
			E('div', { 'style': 'flex:1 1 auto; display:flex' }, [
				E('button', { 'class': 'btn', 'style': 'margin-left:auto; margin-top:auto', 'click': function(ev) {
					var m = dom.parent(ev.target, '.alert-message');
					if (m) m.parentNode.removeChild(m);
				} }, [ _('Dismiss') ])
			])
		]);
		if (title != null)
			dom.append(msg.firstElementChild, E('h4', {}, [ title ]));
		dom.append(msg.firstElementChild, children);
		for (var i = 2; i < arguments.length; i++)
			msg.classList.add(arguments[i]);
		mc.insertBefore(msg, mc.firstElementChild);
		return msg;
	},

	createHandlerFn: function(ctx, fn) {
		if (typeof fn == 'string')
			fn = ctx[fn];
		if (typeof fn != 'function')
			return null;
		var args = Array.prototype.slice.call(arguments, 2);
		return function(ev) {
			var t = ev && ev.currentTarget;
			if (t) { t.classList.add('spinning'); t.disabled = true; }
			return Promise.resolve(fn.apply(ctx, args.concat([ ev ]))).catch(function(e) { console.error(e); }).finally(function() {
				if (t) { t.classList.remove('spinning'); t.disabled = false; }
			});
		};
	},

	instantiateView: function(path) {
		var className = 'view.' + path.replace(/\//g, '.');
		return L.require(className).then(function(v) {
			if (!(v instanceof view))
				throw new TypeError('Loaded class ' + className + ' is not a descendant of View');
			return v;
		});
	},

	tabs: {
		initTabGroup: function() {},
		updateTabs: function() {}
	},

	changes: {
		setIndicator: function(n) {
			var i = document.querySelector('#indicators [data-indicator="uci-changes"]');
			if (i) i.style.display = n ? '' : 'none';
		},

		displayStatus: function(type, content) {
			if (type) {
				var message = UI.prototype.showModal('', '');
				message.classList.add('alert-message');
				type.split(/\s+/).forEach(function(c) { message.classList.add(c); });
				if (content)
					dom.content(message, content);
			}
			else {
				UI.prototype.hideModal();
			}
		},

		apply: function(checked) {
			var self = this;
			this.displayStatus('notice spinning', E('p', {}, [ _('Starting configuration apply…') ]));
			request.request(L.url('admin/uci', checked ? 'apply_rollback' : 'apply_unchecked'), {
				method: 'post', query: { sid: L.env.sessionid, token: L.env.token }
			}).then(function(r) {
				if (r.status === (checked ? 200 : 204)) {
					var tok = null;
					try { tok = r.json(); } catch (e) {}
					self.confirm_auth = (tok && typeof tok.token == 'string') ? tok : null;
					self.confirm(checked, Date.now() + L.env.apply_rollback * 1000);
				}
				else if (checked && r.status === 204) {
					self.displayStatus('notice', E('p', {}, [ _('There are no changes to apply') ]));
					window.setTimeout(function() { self.displayStatus(false); }, L.env.apply_display * 1000);
				}
				else {
					self.displayStatus('warning', E('p', {}, [ _('Apply request failed with status %d').format(r.status) ]));
				}
			});
		},

		confirm: function(checked, deadline) {
			var self = this;
			request.request(L.url('admin/uci/confirm'), { method: 'post', query: self.confirm_auth || {} }).then(function(r) {
				if (r.status === 200 || r.status === 204) {
					document.dispatchEvent(new CustomEvent('uci-applied'));
					self.setIndicator(0);
					self.displayStatus('notice', E('p', {}, [ _('Configuration changes applied.') ]));
					window.setTimeout(function() { window.location = window.location.href.split('#')[0]; }, L.env.apply_display * 1000);
				}
				else if (Date.now() < deadline) {
					window.setTimeout(function() { self.confirm(checked, deadline); }, 1000);
				}
				else {
					self.displayStatus('warning', E('p', {}, [ _('Configuration changes have been rolled back!') ]));
				}
			});
		}
	}
});

return UI;
