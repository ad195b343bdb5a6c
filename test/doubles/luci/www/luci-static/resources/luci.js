/*
 * TEST DOUBLE of LuCI's client runtime (luci-base htdocs/luci-static/resources/luci.js).
 * It is not LuCI: it implements only the documented API the wanbond views use, with the same
 * names, arguments and observable behaviour (L, E, _, N_, String.prototype.format, baseclass,
 * dom, poll, request, view, and the module loader with 'require' directives). Written for
 * wanbond's browser tests; no LuCI code is copied.
 */
(function(window, document) {
	'use strict';

	/* ---- String.prototype.format: the subset of LuCI's format codes views use ---- */
	function fmtTime(secs) {
		var ts = Math.floor(+secs || 0), td = 0, th = 0, tm = 0;
		if (ts > 59) { tm = Math.floor(ts / 60); ts = ts % 60; }
		if (tm > 59) { th = Math.floor(tm / 60); tm = tm % 60; }
		if (th > 23) { td = Math.floor(th / 24); th = th % 24; }
		return td > 0 ? td + 'd ' + th + 'h ' + tm + 'm ' + ts + 's' : th + 'h ' + tm + 'm ' + ts + 's';
	}

	String.prototype.format = function() {
		var args = arguments, n = 0;
		return String(this).replace(/%(-)?(\d+)?(?:\.(\d+))?([sdfthq%])/g, function(m, left, width, prec, type) {
			if (type == '%') return '%';
			var v = args[n++], s;
			switch (type) {
			case 'd': s = String(Math.floor(+v || 0)); break;
			case 'f': s = (prec != null) ? (+v || 0).toFixed(+prec) : String(+v || 0); break;
			case 't': s = fmtTime(v); break;
			case 'h': case 'q':
				s = String(v == null ? '' : v).replace(/[&"'<>]/g, function(c) { return '&#' + c.charCodeAt(0) + ';'; }); break;
			default: s = (v == null) ? '' : String(v);
			}
			if (width && s.length < +width)
				s = left ? s + ' '.repeat(+width - s.length) : ' '.repeat(+width - s.length) + s;
			return s;
		});
	};
	String.format = function(fmt) { return String.prototype.format.apply(fmt, Array.prototype.slice.call(arguments, 1)); };

	/* ---- baseclass ---- */
	var superDepth = typeof Symbol == 'function' ? Symbol('superDepth') : '__superDepth';

	var Class = Object.assign(function() {}, {
		extend: function(properties) {
			var props = { __base__: { value: this.prototype } };
			for (var key in properties)
				if (Object.prototype.hasOwnProperty.call(properties, key))
					props[key] = { value: properties[key], writable: true, configurable: true, enumerable: true };

			var ClassConstructor = function() {
				if (!(this instanceof ClassConstructor))
					throw new TypeError('Constructor must not be called without "new"');
				if (typeof this.__init__ == 'function')
					this.__init__.apply(this, arguments);
			};
			ClassConstructor.prototype = Object.create(this.prototype, props);
			ClassConstructor.prototype.constructor = ClassConstructor;
			Object.assign(ClassConstructor, this);
			return ClassConstructor;
		},
		singleton: function(properties) {
			return Class.extend.call(this, properties).instantiate(Array.prototype.slice.call(arguments, 1));
		},
		instantiate: function(args) {
			return new (Function.prototype.bind.apply(this, [ null ].concat(Array.prototype.slice.call(args || []))))();
		},
		isSubclass: function(classValue) {
			return typeof classValue == 'function' && classValue.prototype instanceof this;
		}
	});

	Class.prototype = {
		constructor: Class,
		varargs: function(args, offset) {
			return Array.prototype.slice.call(arguments, 2).concat(Array.prototype.slice.call(args, offset));
		},
		/* this.super(key) returns the overridden value, this.super(key, args) calls it. */
		super: function(key, callArgs) {
			var depths = this[superDepth] || (this[superDepth] = {}),
			    depth = depths[key] || 0, found = -1, obj = this, owner = null;
			while (obj) {
				if (Object.prototype.hasOwnProperty.call(obj, key) && ++found == depth + 1) { owner = obj; break; }
				obj = Object.getPrototypeOf(obj);
			}
			if (owner == null)
				return null;
			if (arguments.length < 2)
				return owner[key];
			if (typeof owner[key] != 'function')
				throw new ReferenceError(key + ' is not a function in the base class');
			depths[key] = depth + 1;
			try { return owner[key].apply(this, callArgs); }
			finally { depths[key] = depth; }
		},
		__init__: function() {}
	};

	/* ---- dom ---- */
	var classInstances = new WeakMap();

	var dom = Class.singleton({
		elem: function(e) { return e != null && typeof e == 'object' && 'nodeType' in e; },
		parse: function(s) {
			var t = document.createElement('template');
			t.innerHTML = s;
			return t.content.firstChild;
		},
		matches: function(node, sel) { return this.elem(node) && node.nodeType == 1 ? node.matches(sel) : false; },
		parent: function(node, sel) { return this.elem(node) && node.closest ? node.closest(sel) : null; },
		append: function(node, children) {
			if (!this.elem(node))
				return null;
			if (Array.isArray(children)) {
				for (var i = 0; i < children.length; i++)
					if (this.elem(children[i]))
						node.appendChild(children[i]);
					else if (children[i] != null)
						node.appendChild(document.createTextNode(String(children[i])));
				return node.lastChild;
			}
			if (typeof children == 'function')
				return this.append(node, children(node));
			if (this.elem(children))
				return node.appendChild(children);
			if (children != null) {
				/* as in LuCI: a bare string is markup */
				node.innerHTML = String(children);
				return node.lastChild;
			}
			return null;
		},
		content: function(node, children) {
			if (!this.elem(node))
				return null;
			while (node.firstChild)
				node.removeChild(node.firstChild);
			return this.append(node, children);
		},
		attr: function(node, key, val) {
			if (!this.elem(node))
				return null;
			var attrs = (typeof key == 'object' && key != null) ? key : (function() { var o = {}; o[key] = val; return o; })();
			for (var k in attrs) {
				var v = attrs[k];
				if (!Object.prototype.hasOwnProperty.call(attrs, k) || v == null)
					continue;
				if (typeof v == 'function')
					node.addEventListener(k, v);
				else if (typeof v == 'object')
					node.setAttribute(k, JSON.stringify(v));
				else
					node.setAttribute(k, v);
			}
		},
		create: function() {
			var html = arguments[0], attr = arguments[1], data = arguments[2], elem;
			if (!(attr instanceof Object) || Array.isArray(attr) || this.elem(attr))
				data = attr, attr = null;
			if (Array.isArray(html)) {
				elem = document.createDocumentFragment();
				for (var i = 0; i < html.length; i++)
					elem.appendChild(this.elem(html[i]) ? html[i] : document.createTextNode(String(html[i])));
			}
			else if (this.elem(html))
				elem = html;
			else if (html.charCodeAt(0) === 60)
				elem = this.parse(html);
			else
				elem = document.createElement(html);
			if (!elem)
				return null;
			this.attr(elem, attr);
			this.append(elem, data);
			return elem;
		},
		bindClassInstance: function(node, inst) { classInstances.set(node, inst); },
		findClassInstance: function(node) {
			while (node) {
				if (classInstances.has(node))
					return classInstances.get(node);
				node = node.parentNode;
			}
			return null;
		},
		callClassMethod: function(node, method) {
			var inst = this.findClassInstance(node);
			if (!inst || typeof inst[method] != 'function')
				return null;
			return inst[method].apply(inst, Array.prototype.slice.call(arguments, 2));
		},
		isEmpty: function(node) { return !node || !node.firstElementChild; }
	});

	/* ---- request (fetch based; enough for rpc and the apply endpoints) ---- */
	var request = Class.singleton({
		request: function(target, options) {
			options = options || {};
			var url = target, q = options.query;
			if (q) {
				var qs = Object.keys(q).map(function(k) { return encodeURIComponent(k) + '=' + encodeURIComponent(q[k]); }).join('&');
				url += (url.indexOf('?') < 0 ? '?' : '&') + qs;
			}
			var init = { method: (options.method || 'GET').toUpperCase(), credentials: 'same-origin', headers: {} };
			if (options.content != null) {
				init.body = (typeof options.content == 'string') ? options.content : JSON.stringify(options.content);
				init.headers['Content-Type'] = 'application/json';
			}
			var ctl = new AbortController(), t = options.timeout ? setTimeout(function() { ctl.abort(); }, options.timeout) : null;
			init.signal = ctl.signal;
			var start = Date.now();
			return fetch(url, init).then(function(res) {
				return res.text().then(function(text) {
					if (t) clearTimeout(t);
					return {
						ok: res.ok, status: res.status, statusText: res.statusText, url: url,
						duration: Date.now() - start, headers: res.headers,
						text: function() { return text; },
						json: function() { return JSON.parse(text); }
					};
				});
			});
		},
		get: function(url, options) { return this.request(url, Object.assign({}, options, { method: 'GET' })); },
		post: function(url, data, options) { return this.request(url, Object.assign({}, options, { method: 'POST', content: data })); }
	});

	/* ---- poll: LuCI's one-second ticker running registered functions every N ticks ---- */
	var poll = Class.singleton({
		__init__: function() { this.queue = []; this.tick = null; this.timer = null; },
		add: function(fn, interval) {
			if (interval == null || interval <= 0)
				interval = L.env.pollinterval || null;
			if (isNaN(interval) || typeof fn != 'function')
				throw new TypeError('Invalid argument to LuCI.poll.add()');
			for (var i = 0; i < this.queue.length; i++)
				if (this.queue[i].fn === fn)
					return false;
			this.queue.push({ r: true, i: interval, fn: fn });
			if (this.tick != null && !this.active())
				this.start();
			return true;
		},
		remove: function(fn) {
			var before = this.queue.length;
			this.queue = this.queue.filter(function(e) { return e.fn !== fn; });
			if (!this.queue.length)
				this.stop();
			return this.queue.length != before;
		},
		start: function() {
			if (this.active())
				return false;
			this.tick = 0;
			if (this.queue.length) {
				this.timer = window.setInterval(this.step.bind(this), 1000);
				this.step();
				document.dispatchEvent(new CustomEvent('poll-start'));
			}
			return true;
		},
		stop: function() {
			if (!this.active())
				return false;
			document.dispatchEvent(new CustomEvent('poll-stop'));
			window.clearInterval(this.timer);
			this.timer = null;
			return true;
		},
		step: function() {
			for (var i = 0, e; (e = this.queue[i]) != null; i++) {
				if ((this.tick % e.i) != 0 || !e.r)
					continue;
				e.r = false;
				Promise.resolve(e.fn()).finally((function(e) { e.r = true; }).bind(null, e));
			}
			this.tick = (this.tick + 1) % Math.pow(2, 32);
		},
		active: function() { return this.timer != null; }
	});

	/* ---- L ---- */
	var LuCI = Class.extend({
		__init__: function(env) {
			this.env = env;
			this.Class = Class;
			this.dom = dom;
			this.Poll = poll;
			this.Request = request;
		},
		bind: function(fn, self) { return Function.prototype.bind.apply(fn, this.varargs(arguments, 2, self)); },
		isObject: function(v) { return v != null && typeof v == 'object'; },
		toArray: function(v) { return v == null ? [] : Array.isArray(v) ? v : [ v ]; },
		sortedKeys: function(obj) { return obj == null ? [] : Object.keys(obj).sort(); },
		naturalCompare: function(a, b) { return String(a).localeCompare(String(b), undefined, { numeric: true }); },
		resolveDefault: function(value, defvalue) {
			return Promise.resolve(value).catch(function() { return defvalue; });
		},
		raise: function(type, fmt) {
			var e = new Error(fmt ? String.prototype.format.apply(fmt, this.varargs(arguments, 2)) : '');
			e.name = type || 'Error';
			throw e;
		},
		error: function(type, fmt) {
			try { this.raise.apply(this, arguments); }
			catch (e) { console.error(e); throw e; }
		},
		path: function(prefix, parts) {
			var url = [ prefix || '' ];
			for (var i = 0; i < parts.length; i++)
				if (/^(?:[a-zA-Z0-9_.%,;-]+\/)*[a-zA-Z0-9_.%,;-]+$/.test(parts[i]))
					url.push('/', parts[i]);
			if (url.length === 1)
				url.push('/');
			return url.join('');
		},
		url: function() { return this.path(this.env.scriptname, arguments); },
		resource: function() { return this.path(this.env.resource, arguments); },
		media: function() { return this.path(this.env.media, arguments); },
		location: function() { return this.path(this.env.scriptname, this.env.requestpath); },
		/* LuCI: null when the view's ACL is not satisfied, false when read-only, true when writable */
		hasViewPermission: function() {
			if (!this.isObject(this.env.nodespec) || !this.env.nodespec.satisfied)
				return null;
			return !this.env.nodespec.readonly;
		},
		require: function(name) { return loadModule(name, []); }
	});

	var env = JSON.parse(document.currentScript.getAttribute('data-env') || '{}');
	var L = new LuCI(env);
	window.L = L;
	window.E = function() { return dom.create.apply(dom, arguments); };
	window._ = function(s) { return s; };
	window.N_ = function(n, s, p) { return n == 1 ? s : p; };

	/* ---- view ---- */
	var View = Class.extend({
		__init__: function() {
			var vp = document.getElementById('view');
			dom.content(vp, E('div', { 'class': 'spinning' }, [ _('Loading view…') ]));
			return Promise.resolve(this.load())
				.then(L.bind(this.render, this))
				.then(L.bind(function(nodes) {
					var vp = document.getElementById('view');
					dom.content(vp, nodes);
					dom.append(vp, this.addFooter());
					document.dispatchEvent(new CustomEvent('luci-loaded'));
				}, this)).catch(function(e) {
					dom.content(document.getElementById('view'), E('div', { 'class': 'alert-message error' }, [ String(e && e.stack || e) ]));
					console.error(e);
				});
		},
		load: function() {},
		render: function() {},
		handleSave: function(ev) {
			var tasks = [];
			document.getElementById('maincontent').querySelectorAll('.cbi-map').forEach(function(map) {
				tasks.push(dom.callClassMethod(map, 'save'));
			});
			return Promise.all(tasks);
		},
		handleSaveApply: function(ev, mode) {
			return this.handleSave(ev).then(function() {
				return loadModule('ui', []).then(function(ui) { ui.changes.apply(mode == '0'); });
			});
		},
		handleReset: function(ev) {
			var tasks = [];
			document.getElementById('maincontent').querySelectorAll('.cbi-map').forEach(function(map) {
				tasks.push(dom.callClassMethod(map, 'reset'));
			});
			return Promise.all(tasks);
		},
		addFooter: function() {
			var footer = E([]), vp = document.getElementById('view'), hasmap = false, readonly = true;
			vp.querySelectorAll('.cbi-map').forEach(function(map) {
				var m = dom.findClassInstance(map);
				if (m) { hasmap = true; if (!m.readonly) readonly = false; }
			});
			if (!hasmap)
				readonly = !L.hasViewPermission();
			if (this.handleSaveApply || this.handleSave || this.handleReset) {
				var ui = modules.ui;
				footer.appendChild(E('div', { 'class': 'cbi-page-actions' }, [
					this.handleSaveApply ? E('button', {
						'class': 'cbi-button cbi-button-apply', 'disabled': readonly || null,
						'click': ui.createHandlerFn(this, function(ev) { return this.handleSaveApply(ev, '0'); })
					}, [ _('Save & Apply') ]) : '', ' ',
					this.handleSave ? E('button', {
						'class': 'cbi-button cbi-button-save', 'disabled': readonly || null,
						'click': ui.createHandlerFn(this, 'handleSave')
					}, [ _('Save') ]) : '', ' ',
					this.handleReset ? E('button', {
						'class': 'cbi-button cbi-button-reset', 'disabled': readonly || null,
						'click': ui.createHandlerFn(this, 'handleReset')
					}, [ _('Reset') ]) : ''
				]));
			}
			return footer;
		}
	});

	/* ---- module loader: resources/<a>/<b>.js for 'require a.b', directives at the top ---- */
	var modules = { baseclass: Class, dom: dom, poll: poll, request: request, view: View };
	var loading = {};

	function loadModule(name, chain) {
		if (modules[name])
			return Promise.resolve(modules[name]);
		if (chain.indexOf(name) >= 0)
			return Promise.reject(new Error('Circular dependency: ' + chain.concat(name).join(' -> ')));
		if (loading[name])
			return loading[name];

		var url = L.resource(name.replace(/\./g, '/') + '.js');
		loading[name] = request.get(url).then(function(res) {
			if (!res.ok)
				throw new Error('Cannot load ' + url + ': HTTP ' + res.status);
			var source = res.text(), deps = [], names = [], m,
			    re = /^\s*(?:'use strict'\s*;\s*|\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*'require[ \t]+([A-Za-z0-9_.]+)(?:[ \t]+as[ \t]+([A-Za-z_][A-Za-z0-9_]*))?'\s*;/;
			var rest = source;
			while ((m = re.exec(rest)) != null) {
				deps.push(m[1]);
				names.push(m[2] || m[1].replace(/[^A-Za-z0-9_]/g, '_'));
				rest = rest.slice(m[0].length);
			}
			return Promise.all(deps.map(function(d) { return loadModule(d, chain.concat(name)); })).then(function(instances) {
				var fn = new Function(names.join(','), source + '\n//# sourceURL=' + url);
				var result = fn.apply(L, instances);
				/* as LuCI does: a module returning a class is instantiated (views start loading here) */
				if (typeof result == 'function' && Class.isSubclass(result))
					result = new result();
				modules[name] = result;
				return result;
			});
		});
		return loading[name];
	}

	/* LuCI sets its poller up with the page: the first poll.add() starts the ticker. */
	poll.tick = 0;
})(window, document);
