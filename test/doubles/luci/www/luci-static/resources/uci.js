'use strict';
'require rpc';
'require baseclass';

/*
 * TEST DOUBLE of LuCI's uci.js: a client-side copy of UCI configs loaded with ubus `uci get`,
 * edited locally (get/set/unset/add/remove/sections) and written back on save() with ubus
 * `uci add`/`uci set`/`uci delete`, after which the configs are loaded again. Staged changes
 * live in the rpcd session until LuCI's apply commits them, as on a router.
 */

var callLoad = rpc.declare({ object: 'uci', method: 'get', params: [ 'config' ], expect: { values: {} }, reject: true });
var callAdd = rpc.declare({ object: 'uci', method: 'add', params: [ 'config', 'type', 'name', 'values' ], expect: { section: '' }, reject: true });
var callSet = rpc.declare({ object: 'uci', method: 'set', params: [ 'config', 'section', 'values' ], reject: true });
var callDelete = rpc.declare({ object: 'uci', method: 'delete', params: [ 'config', 'section', 'options' ], reject: true });
var callChanges = rpc.declare({ object: 'uci', method: 'changes', expect: { changes: {} } });

function options(s) {
	var v = {};
	for (var k in s)
		if (k.charAt(0) != '.')
			v[k] = s[k];
	return v;
}

return baseclass.extend({
	__init__: function() {
		this.state = { values: {}, ops: {} };
	},

	load: function(packages) {
		var self = this, pkgs = L.toArray(packages);
		return Promise.all(pkgs.map(function(p) {
			if (self.state.values[p])
				return null;
			return callLoad(p).then(function(values) { self.state.values[p] = values; });
		})).then(function() { return packages; });
	},

	unload: function(packages) {
		var self = this;
		L.toArray(packages).forEach(function(p) {
			delete self.state.values[p];
			delete self.state.ops[p];
		});
	},

	op: function(conf, entry) {
		(this.state.ops[conf] = this.state.ops[conf] || []).push(entry);
	},

	resolveSID: function(conf, sid) {
		var m = /^@([^\[]+)\[(-?\d+)\]$/.exec(sid || '');
		if (!m)
			return sid;
		var list = this.sections(conf, m[1]), i = +m[2];
		var s = list[i < 0 ? list.length + i : i];
		return s ? s['.name'] : null;
	},

	get: function(conf, sid, opt) {
		var v = this.state.values[conf];
		if (!v || sid == null)
			return null;
		var s = v[this.resolveSID(conf, sid)];
		if (!s)
			return null;
		if (opt == null)
			return s;
		return (s[opt] != null) ? s[opt] : null;
	},

	get_first: function(conf, type, opt) {
		var s = this.sections(conf, type)[0];
		return s ? this.get(conf, s['.name'], opt) : null;
	},

	set: function(conf, sid, opt, val) {
		sid = this.resolveSID(conf, sid);
		var s = this.get(conf, sid);
		if (!s || opt == null || opt.charAt(0) == '.')
			return;
		if (val == null || val === '' || (Array.isArray(val) && !val.length))
			return this.unset(conf, sid, opt);
		s[opt] = Array.isArray(val) ? val.map(String) : String(val);
		this.op(conf, [ 'set', sid, opt ]);
	},

	unset: function(conf, sid, opt) {
		var s = this.get(conf, sid);
		if (!s || !(opt in s))
			return;
		delete s[opt];
		this.op(conf, [ 'unset', s['.name'], opt ]);
	},

	add: function(conf, type, name) {
		var v = this.state.values[conf] = this.state.values[conf] || {},
		    sid = name || 'cfg%06x'.format(Math.floor(Math.random() * 0xffffff)),
		    idx = Object.keys(v).length;
		v[sid] = { '.name': sid, '.type': type, '.anonymous': !name, '.index': idx };
		this.op(conf, [ 'add', sid, type, !!name ]);
		return sid;
	},

	remove: function(conf, sid) {
		var v = this.state.values[conf];
		sid = this.resolveSID(conf, sid);
		if (!v || !v[sid])
			return;
		delete v[sid];
		this.op(conf, [ 'remove', sid ]);
	},

	sections: function(conf, type, cb) {
		var v = this.state.values[conf] || {}, list = [];
		for (var sid in v)
			if (type == null || v[sid]['.type'] == type)
				list.push(v[sid]);
		list.sort(function(a, b) { return (a['.index'] || 0) - (b['.index'] || 0); });
		if (typeof cb == 'function')
			list.forEach(function(s) { cb.call(this, s, s['.name']); }, this);
		return list;
	},

	changes: function() {
		return callChanges();
	},

	// Sends every local change as ubus calls, in the order made, then loads the configs again.
	save: function() {
		var self = this, confs = Object.keys(this.state.ops), chain = Promise.resolve();

		confs.forEach(function(conf) {
			var created = {}, removed = {}, touched = {};
			self.state.ops[conf].forEach(function(o) {
				if (o[0] == 'add') created[o[1]] = o;
				else if (o[0] == 'remove') removed[o[1]] = true;
				else (touched[o[1]] = touched[o[1]] || {})[o[2]] = true;
			});

			Object.keys(created).forEach(function(sid) {
				var s = self.get(conf, sid);
				if (s && !removed[sid])
					chain = chain.then(function() {
						return callAdd(conf, created[sid][2], created[sid][3] ? sid : null, options(s));
					});
			});
			Object.keys(touched).forEach(function(sid) {
				var s = self.get(conf, sid);
				if (created[sid] || removed[sid] || !s)
					return;
				var set = {}, del = [];
				Object.keys(touched[sid]).forEach(function(opt) {
					if (s[opt] != null) set[opt] = s[opt]; else del.push(opt);
				});
				if (Object.keys(set).length)
					chain = chain.then(function() { return callSet(conf, sid, set); });
				if (del.length)
					chain = chain.then(function() { return callDelete(conf, sid, del); });
			});
			Object.keys(removed).forEach(function(sid) {
				if (!created[sid])
					chain = chain.then(function() { return callDelete(conf, sid); });
			});
		});

		return chain.then(function() {
			self.unload(confs);
			return self.load(confs);
		});
	}
});
