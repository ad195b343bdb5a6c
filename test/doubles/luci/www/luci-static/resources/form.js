'use strict';
'require ui';
'require uci';
'require rpc';
'require dom';
'require baseclass';

/*
 * TEST DOUBLE of LuCI's form.js, limited to what wanbond's settings view uses: Map,
 * NamedSection, TypedSection (addremove, named sections), Value, ListValue, Flag, DynamicList,
 * with LuCI's semantics: the Map turns read-only when `session access uci <config> write` is
 * refused; options validate through their `validate(section_id, value)`; depends() hides
 * options; parse() refuses invalid values with 'Option "<title>" contains an invalid input
 * value.'; save() writes through uci.save() and a failed save opens the "Save error" modal.
 */

var callSessionAccess = rpc.declare({
	object: 'session',
	method: 'access',
	params: [ 'scope', 'object', 'function' ],
	expect: { 'access': false }
});

function isEqual(a, b) {
	if (Array.isArray(a) || Array.isArray(b))
		return JSON.stringify(L.toArray(a)) == JSON.stringify(L.toArray(b));
	return String(a == null ? '' : a) == String(b == null ? '' : b);
}

var CBIAbstractElement = baseclass.extend({
	__init__: function(title, description) {
		this.title = title || '';
		this.description = description || '';
		this.children = [];
	},
	append: function(obj) { this.children.push(obj); },
	stripTags: function(s) {
		var d = document.createElement('div');
		d.innerHTML = String(s == null ? '' : s);
		return d.textContent;
	},
	titleFn: function(attr) {
		var s = (typeof this[attr] == 'function') ? this[attr].apply(this, this.varargs(arguments, 1)) : this[attr];
		s = (s == null) ? '' : this.stripTags(String(s)).trim();
		return s === '' ? null : s;
	}
});

var CBIMap = CBIAbstractElement.extend({
	__init__: function(config) {
		this.super('__init__', this.varargs(arguments, 1));
		this.config = config;
		this.parsechain = [ config ];
		this.data = uci;
	},

	section: function(cbiClass) {
		if (!CBIAbstractSection.isSubclass(cbiClass))
			L.error('TypeError', 'Class must be a descendent of CBIAbstractSection');
		var obj = cbiClass.instantiate(this.varargs(arguments, 1, this));
		this.append(obj);
		return obj;
	},

	chain: function(config) {
		if (this.parsechain.indexOf(config) < 0)
			this.parsechain.push(config);
	},

	load: function() {
		var doCheckACL = (this.readonly == null),
		    tasks = [ doCheckACL ? callSessionAccess('uci', this.config, 'write') : true ];
		tasks.push.apply(tasks, this.parsechain.map(L.bind(function(c) { return this.data.load(c); }, this)));
		return Promise.all(tasks).then(L.bind(function(res) {
			if (res[0] === false)
				this.readonly = true;
			return Promise.all(this.children.map(function(s) { return s.load(); }));
		}, this));
	},

	parse: function() {
		return Promise.all(this.children.map(function(s) { return s.parse(); }));
	},

	save: function(cb, silent) {
		this.checkDepends();
		return this.parse()
			.then(cb)
			.then(this.data.save.bind(this.data))
			.then(this.load.bind(this))
			.catch(function(e) {
				if (!silent) {
					ui.showModal(_('Save error'), [
						E('p', {}, [ _('An error occurred while saving the form:') ]),
						E('p', {}, [ E('em', { 'style': 'white-space:pre-wrap' }, [ e.message ]) ]),
						E('div', { 'class': 'right' }, [ E('button', { 'class': 'cbi-button', 'click': ui.hideModal }, [ _('Dismiss') ]) ])
					]);
				}
				return Promise.reject(e);
			}).then(this.renderContents.bind(this));
	},

	reset: function() { return this.renderContents(); },

	render: function() { return this.load().then(this.renderContents.bind(this)); },

	renderContents: function() {
		var mapEl = this.root || (this.root = E('div', { 'id': 'cbi-' + this.config, 'class': 'cbi-map' }));
		mapEl.addEventListener('widget-change', L.bind(function() { this.checkDepends(); }, this));
		dom.bindClassInstance(mapEl, this);
		return Promise.all(this.children.map(function(s) { return s.render(); })).then(L.bind(function(nodes) {
			dom.content(mapEl, null);
			if (this.title)
				mapEl.appendChild(E('h2', { 'name': 'content' }, [ this.title ]));
			if (this.description)
				mapEl.appendChild(E('div', { 'class': 'cbi-map-descr' }, [ this.description ]));
			dom.append(mapEl, nodes);
			this.checkDepends();
			return mapEl;
		}, this));
	},

	findElements: function() {
		var q = (arguments.length == 1) ? arguments[0] : '[%s="%s"]'.format(arguments[0], arguments[1]);
		return this.root ? this.root.querySelectorAll(q) : [];
	},

	findElement: function() {
		var r = this.findElements.apply(this, arguments);
		return r.length ? r[0] : null;
	},

	lookupOption: function(name, section_id, config_name) {
		for (var i = 0; i < this.children.length; i++) {
			var s = this.children[i];
			if (s.cfgsections().indexOf(section_id) < 0)
				continue;
			var o = s.getOption(name);
			if (o)
				return [ o, section_id ];
		}
		return null;
	},

	checkDepends: function() {
		this.children.forEach(function(s) { s.checkDepends(); });
	},

	isDependencySatisfied: function(depends, config_name, section_id) {
		if (!Array.isArray(depends) || !depends.length)
			return true;
		for (var i = 0; i < depends.length; i++) {
			var ok = true;
			for (var dep in depends[i]) {
				var res = this.lookupOption(dep, section_id, config_name),
				    val = (res && res[0].isActive(res[1])) ? res[0].formvalue(res[1]) : null;
				if (!isEqual(val, depends[i][dep]))
					ok = false;
			}
			if (ok)
				return true;
		}
		return false;
	}
});

var CBIAbstractSection = CBIAbstractElement.extend({
	__init__: function(map, sectionType) {
		this.super('__init__', this.varargs(arguments, 2));
		this.sectiontype = sectionType;
		this.map = map;
		this.config = map.config;
		this.optional = true;
		this.addremove = false;
	},

	cfgsections: function() { L.error('InternalError', 'Not implemented'); },
	filter: function() { return true; },

	load: function() {
		var sids = this.cfgsections(), self = this;
		return Promise.all(sids.map(function(sid) {
			return Promise.all(self.children.map(function(o) { return o.load(sid); })).then(function(values) {
				values.forEach(function(v, i) { self.children[i].cfgvalue(sid, v); });
			});
		}));
	},

	parse: function() {
		var sids = this.cfgsections(), tasks = [];
		for (var i = 0; i < sids.length; i++)
			for (var j = 0; j < this.children.length; j++)
				tasks.push(this.children[j].parse(sids[i]));
		return Promise.all(tasks);
	},

	option: function(cbiClass) {
		if (!CBIAbstractValue.isSubclass(cbiClass))
			throw new TypeError('Class must be a descendant of CBIAbstractValue');
		var obj = cbiClass.instantiate(this.varargs(arguments, 1, this.map, this));
		this.append(obj);
		return obj;
	},

	getOption: function(name) {
		for (var i = 0; i < this.children.length; i++)
			if (this.children[i].option == name)
				return this.children[i];
		return null;
	},

	cfgvalue: function(section_id, option) {
		var o = this.getOption(option);
		return o ? o.cfgvalue(section_id) : null;
	},

	formvalue: function(section_id, option) {
		var o = this.getOption(option);
		return o ? o.formvalue(section_id) : null;
	},

	getUIElement: function(section_id, option) {
		var o = this.getOption(option);
		return o ? o.getUIElement(section_id) : null;
	},

	/* as LuCI: show/hide options by their dependencies, then validate every active one again
	   (so rules that compare options follow changes of the others) */
	checkDepends: function() {
		var self = this;
		this.cfgsections().forEach(function(sid) {
			self.children.forEach(function(o) {
				var node = self.map.findElement('data-field', o.cbid(sid));
				if (!node)
					return;
				node.classList.toggle('hidden', !self.map.isDependencySatisfied(o.deps, self.config, sid));
				if (o.isActive(sid))
					o.triggerValidation(sid);
			});
		});
	},

	renderOptions: function(section_id) {
		return Promise.all(this.children.map(function(o, i) { return o.render(i, section_id); }));
	},

	renderSectionNode: function(section_id) {
		return this.renderOptions(section_id).then(L.bind(function(nodes) {
			return E('div', { 'class': 'cbi-section-node', 'id': 'cbi-%s-%s'.format(this.config, section_id), 'data-section-id': section_id }, nodes);
		}, this));
	}
});

var CBITypedSection = CBIAbstractSection.extend({
	cfgsections: function() {
		return this.map.data.sections(this.config, this.sectiontype)
			.map(function(s) { return s['.name']; })
			.filter(L.bind(this.filter, this));
	},

	handleAdd: function(ev, name) {
		this.map.data.add(this.config, this.sectiontype, name);
		return this.map.save(null, true);
	},

	handleRemove: function(section_id, ev) {
		this.map.data.remove(this.config, section_id);
		return this.map.save(null, true);
	},

	/* as LuCI: a name field validated as a UCI name, the button enabled once a name is typed */
	renderSectionAdd: function() {
		if (!this.addremove)
			return E([]);
		var nameEl = E('input', { 'type': 'text', 'class': 'cbi-section-create-name', 'disabled': this.map.readonly || null }),
		    title = this.titleFn('addbtntitle') || _('Add');
		var button = E('button', {
			'class': 'cbi-button cbi-button-add', 'title': title, 'disabled': true,
			'click': ui.createHandlerFn(this, function(ev) {
				if (nameEl.classList.contains('cbi-input-invalid'))
					return;
				return this.handleAdd(ev, nameEl.value);
			})
		}, [ title ]);
		if (this.map.readonly !== true) {
			var check = function() {
				var v = nameEl.value, ok = (v === '') || /^[A-Za-z0-9_]+$/.test(v);
				nameEl.classList.toggle('cbi-input-invalid', !ok);
				if (ok) nameEl.removeAttribute('data-tooltip');
				else nameEl.setAttribute('data-tooltip', _('Expecting: %s').format(_('valid UCI identifier')));
				button.disabled = (v === '') ? true : null;
			};
			nameEl.addEventListener('keyup', check);
			nameEl.addEventListener('blur', check);
		}
		return E('div', { 'class': 'cbi-section-create' }, [ E('div', {}, [ nameEl ]), button ]);
	},

	render: function() {
		var sids = this.cfgsections(), self = this;
		return Promise.all(sids.map(function(sid) { return self.renderSectionNode(sid); })).then(function(nodes) {
			var sectionEl = E('div', { 'class': 'cbi-section', 'id': 'cbi-%s-%s'.format(self.config, self.sectiontype) }, [
				self.title ? E('h3', {}, [ self.title ]) : '',
				self.description ? E('div', { 'class': 'cbi-section-descr' }, [ self.description ]) : ''
			]);
			nodes.forEach(function(node, i) {
				if (self.addremove)
					sectionEl.appendChild(E('div', { 'class': 'cbi-section-remove right' }, [
						E('button', { 'class': 'cbi-button', 'name': 'cbi.rts.%s.%s'.format(self.config, sids[i]), 'data-section-id': sids[i],
							'disabled': self.map.readonly || null, 'click': ui.createHandlerFn(self, 'handleRemove', sids[i]) }, [ _('Delete') ])
					]));
				if (!self.anonymous)
					sectionEl.appendChild(E('h3', {}, [ sids[i].toUpperCase() ]));
				sectionEl.appendChild(node);
			});
			if (!nodes.length)
				sectionEl.appendChild(E('em', {}, [ _('This section contains no values yet') ]));
			sectionEl.appendChild(self.renderSectionAdd());
			return sectionEl;
		});
	}
});

var CBINamedSection = CBIAbstractSection.extend({
	__init__: function(map, section_id) {
		this.super('__init__', this.varargs(arguments, 2, map));
		this.section = section_id;
	},

	cfgsections: function() {
		return this.map.data.get(this.config, this.section) ? [ this.section ] : [];
	},

	render: function() {
		var self = this;
		if (!this.cfgsections().length)
			return Promise.resolve(E([]));
		return this.renderSectionNode(this.section).then(function(node) {
			return E('div', { 'class': 'cbi-section', 'id': 'cbi-%s-%s'.format(self.config, self.section) }, [
				self.title ? E('h3', {}, [ self.title ]) : '',
				self.description ? E('div', { 'class': 'cbi-section-descr' }, [ self.description ]) : '',
				node
			]);
		});
	}
});

var CBIAbstractValue = CBIAbstractElement.extend({
	__init__: function(map, section, option) {
		this.super('__init__', this.varargs(arguments, 3));
		this.section = section;
		this.option = option;
		this.map = map;
		this.config = map.config;
		this.deps = [];
		this.data = {};
		this.rmempty = true;
		this.default = null;
		this.optional = false;
		this.retain = false;
	},

	depends: function(field, value) {
		var deps;
		if (typeof field == 'string')
			deps = {}, deps[field] = value;
		else
			deps = field;
		this.deps.push(deps);
	},

	cbid: function(section_id) { return 'cbid.%s.%s.%s'.format(this.config, section_id, this.option); },

	load: function(section_id) {
		return this.map.data.get(this.config, section_id, this.option);
	},

	cfgvalue: function(section_id, set_value) {
		if (arguments.length == 2)
			this.data[section_id] = set_value;
		return this.data[section_id];
	},

	getUIElement: function(section_id) {
		var node = this.map.findElement('id', 'widget.' + this.cbid(section_id));
		return node ? dom.findClassInstance(node) : null;
	},

	formvalue: function(section_id) {
		var el = this.getUIElement(section_id);
		return el ? el.getValue() : null;
	},

	textvalue: function(section_id) {
		var v = this.cfgvalue(section_id);
		return (v == null) ? this.default : v;
	},

	/* as LuCI: active means rendered and not hidden by an unsatisfied dependency */
	isActive: function(section_id) {
		var field = this.map.findElement('data-field', this.cbid(section_id));
		return field != null && !field.classList.contains('hidden');
	},

	triggerValidation: function(section_id) {
		var el = this.getUIElement(section_id);
		return el ? el.triggerValidation() : true;
	},

	isValid: function(section_id) {
		var el = this.getUIElement(section_id);
		return el ? el.isValid() : true;
	},

	getValidationError: function(section_id) {
		var el = this.getUIElement(section_id);
		return el ? el.getValidationError() : '';
	},

	write: function(section_id, value) { return this.map.data.set(this.config, section_id, this.option, value); },
	remove: function(section_id) { return this.map.data.unset(this.config, section_id, this.option); },

	parse: function(section_id) {
		var active = this.isActive(section_id), title = this.stripTags(this.title).trim() || this.option;
		if (active) {
			/* as LuCI: the widget's last validation result counts (it validates on input) */
			if (!this.isValid(section_id))
				return Promise.reject(new TypeError(_('Option "%s" contains an invalid input value.').format(title) + ' ' + this.getValidationError(section_id)));
			var cval = this.cfgvalue(section_id), fval = this.formvalue(section_id);
			if (fval == null || fval === '' || (Array.isArray(fval) && !fval.length)) {
				if (this.rmempty || this.optional)
					return Promise.resolve(this.remove(section_id));
				return Promise.reject(new TypeError(_('Option "%s" must not be empty.').format(title)));
			}
			if (!isEqual(cval, fval))
				return Promise.resolve(this.write(section_id, fval));
		}
		else if (!this.retain && this.cfgvalue(section_id) != null) {
			return Promise.resolve(this.remove(section_id));
		}
		return Promise.resolve();
	},

	widgetOptions: function(section_id) {
		return {
			id: 'widget.' + this.cbid(section_id),
			optional: this.optional || this.rmempty,
			placeholder: this.placeholder,
			password: this.password,
			disabled: (this.readonly != null) ? this.readonly : this.map.readonly,
			validate: this.validate ? L.bind(this.validate, this, section_id) : null
		};
	},

	render: function(option_index, section_id) {
		var value = this.cfgvalue(section_id);
		if (value == null)
			value = this.default;
		var widget = this.renderWidget(section_id, value);
		var node = E('div', {
			'class': 'cbi-value', 'id': 'cbi-%s-%s-%s'.format(this.config, section_id, this.option),
			'data-field': this.cbid(section_id), 'data-name': this.option, 'data-index': option_index
		}, [
			E('label', { 'class': 'cbi-value-title', 'for': 'widget.' + this.cbid(section_id) }, [ this.title ]),
			E('div', { 'class': 'cbi-value-field' }, [
				widget,
				this.description ? E('div', { 'class': 'cbi-value-description' }, [ this.description ]) : ''
			])
		]);
		if (typeof this.onchange == 'function')
			node.addEventListener('widget-change', L.bind(function(ev) {
				this.onchange.call(this, ev, section_id, this.formvalue(section_id));
			}, this));
		return node;
	}
});

var CBIValue = CBIAbstractValue.extend({
	value: function(key, val) {
		this.keylist = this.keylist || [];
		this.keylist.push(String(key));
		this.vallist = this.vallist || [];
		this.vallist.push(val != null ? val : key);
	},
	renderWidget: function(section_id, value) {
		return new ui.Textfield(Array.isArray(value) ? value.join(' ') : value, this.widgetOptions(section_id)).render();
	}
});

var CBIDynamicList = CBIValue.extend({
	renderWidget: function(section_id, value) {
		return new ui.DynamicList(L.toArray(value), this.widgetOptions(section_id)).render();
	}
});

var CBIListValue = CBIValue.extend({
	__init__: function() {
		this.super('__init__', this.varargs(arguments, 0));
		this.widget = 'select';
	},
	renderWidget: function(section_id, value) {
		var choices = {};
		(this.keylist || []).forEach(L.bind(function(k, i) { choices[k] = this.vallist[i]; }, this));
		var opts = this.widgetOptions(section_id);
		opts.optional = this.optional;
		return new ui.Select(value, choices, opts).render();
	}
});

var CBIFlag = CBIValue.extend({
	__init__: function() {
		this.super('__init__', this.varargs(arguments, 0));
		this.enabled = '1';
		this.disabled = '0';
		this.default = this.disabled;
	},
	renderWidget: function(section_id, value) {
		var opts = this.widgetOptions(section_id);
		opts.value_enabled = this.enabled;
		opts.value_disabled = this.disabled;
		opts.optional = true;
		return new ui.Checkbox(value == null ? this.default : value, opts).render();
	},
	formvalue: function(section_id) {
		var el = this.getUIElement(section_id);
		return el ? el.getValue() : null;
	},
	parse: function(section_id) {
		if (!this.isActive(section_id))
			return (this.retain || this.cfgvalue(section_id) == null) ? Promise.resolve() : Promise.resolve(this.remove(section_id));
		var fval = this.formvalue(section_id), cval = this.textvalue(section_id);
		if (fval == null)
			return Promise.resolve();
		if (fval == this.default && this.rmempty)
			return Promise.resolve(this.cfgvalue(section_id) != null ? this.remove(section_id) : null);
		return isEqual(fval, this.cfgvalue(section_id)) ? Promise.resolve() : Promise.resolve(this.write(section_id, fval));
	}
});

return baseclass.extend({
	Map: CBIMap,
	AbstractSection: CBIAbstractSection,
	TypedSection: CBITypedSection,
	NamedSection: CBINamedSection,
	AbstractValue: CBIAbstractValue,
	Value: CBIValue,
	DynamicList: CBIDynamicList,
	ListValue: CBIListValue,
	Flag: CBIFlag
});
