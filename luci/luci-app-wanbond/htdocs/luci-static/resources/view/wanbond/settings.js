'use strict';
'require view';
'require form';
'require rpc';
'require uci';
'require ui';
'require wanbond.validate as validate';

// /etc/config/wanbond as a form. Save & Apply commits through LuCI's usual apply (rpcd sends
// config.change, procd's reload trigger reloads the agent); then the page asks the agent to
// reload once more and shows what it refused, since procd cannot report that back.

var callInterfaces = rpc.declare({
	object: 'network.interface',
	method: 'dump',
	expect: { 'interface': [] }
});

var callReload = rpc.declare({
	object: 'wanbond',
	method: 'reload'
});

var REFUSED_KEY = 'wanbond-reload-refused',
    PENDING_KEY = 'wanbond-reload-pending';

// The agent's defaults (src/config/defaults.ts), shown as placeholders and used by the rules
// that compare two options when one of them is left empty.
var HEALTH_DEFAULTS = { interval: '0.1', failure_latency: '1000', recovery_latency: '500', failure_loss: '20', recovery_loss: '5', down: '3', up: '10' };

// The agent answers {ok:false, errors:[…]} or a bare ubus status code.
function reloadErrors(res) {
	if (typeof(res) == 'number')
		return (res == 0) ? [] : [ rpc.getStatusText(res) ];
	if (L.isObject(res) && res.ok === false)
		return Array.isArray(res.errors) && res.errors.length ? res.errors : [ res.message || _('refused') ];
	return [];
}

function refusedNode(errors) {
	return E('div', {}, [
		E('p', {}, [ E('strong', {}, [ _('The wanbond agent refused the new settings and keeps running with the previous ones:') ]) ]),
		E('ul', { 'id': 'wanbond-refused' }, errors.map(function(e) { return E('li', {}, [ e ]); })),
		E('p', {}, [ _('Correct the settings below and press Save & Apply again.') ])
	]);
}

// A validator for form options: empty is left to rmempty/optional, anything else to fn.
function check(fn, optional) {
	return function(section_id, value) {
		if (value == null || value === '')
			return optional ? true : _('This value is required');
		return fn(String(value));
	};
}

return view.extend({
	load: function() {
		return Promise.all([
			L.resolveDefault(callInterfaces(), []),
			uci.load('wanbond')
		]);
	},

	// LuCI reloads the page shortly after applying, which may cut this call short: a marker in
	// sessionStorage makes the next render ask again (reloading twice changes nothing), and the
	// answer is kept there until a render shows it.
	checkReload: function() {
		var store = window.sessionStorage;
		store.setItem(PENDING_KEY, '1');
		// No answer means no agent running (disabled, or procd is starting it): nothing to report.
		return callReload().then(function(res) {
			var errors = reloadErrors(res);
			store.removeItem(PENDING_KEY);
			if (errors.length) {
				store.setItem(REFUSED_KEY, JSON.stringify(errors));
				ui.addNotification(null, refusedNode(errors), 'danger');
			}
		}, function() {
			store.removeItem(PENDING_KEY);
		});
	},

	handleSaveApply: function(ev, mode) {
		var self = this, onApplied = function() {
			document.removeEventListener('uci-applied', onApplied);
			return self.checkReload();
		};

		document.addEventListener('uci-applied', onApplied);
		return this.super('handleSaveApply', [ ev, mode ]).catch(function(e) {
			document.removeEventListener('uci-applied', onApplied);
			throw e;
		});
	},

	render: function(data) {
		var ifaces = Array.isArray(data[0]) ? data[0] : [],
		    store = window.sessionStorage,
		    m, s, o;

		var refused = null;
		try { refused = JSON.parse(store.getItem(REFUSED_KEY) || 'null'); } catch (e) {}
		store.removeItem(REFUSED_KEY);
		if (Array.isArray(refused) && refused.length)
			ui.addNotification(null, refusedNode(refused), 'danger');
		else if (store.getItem(PENDING_KEY))
			this.checkReload().then(function() { store.removeItem(REFUSED_KEY); });

		m = new form.Map('wanbond', _('WAN Bonding'),
			_('Bond several internet links into one: each link carries a WireGuard tunnel to your concentrator, and the tunnels form one bond. Settings take effect on Save & Apply.'));

		// The shipped config has no concentrator section (and a user may have deleted others):
		// create the singletons locally so the form can fill them; they are saved with the rest.
		[ 'globals', 'concentrator', 'health', 'mqtt' ].forEach(function(name) {
			if (!uci.get('wanbond', name))
				uci.add('wanbond', name, name);
		});

		var links = null, enabledNow = function() {
			var e = m.lookupOption('enabled', 'globals');
			return e ? e[0].formvalue('globals') == '1' : uci.get('wanbond', 'globals', 'enabled') == '1';
		};

		// As the agent: an enabled router needs the concentrator's values and an enabled link.
		var neededWhenEnabled = function(rule) {
			return function(section_id, value) {
				if (value == null || value === '')
					return enabledNow() ? _('Required once wanbond is enabled') : true;
				return rule(String(value));
			};
		};

		/* Global */
		s = m.section(form.NamedSection, 'globals', 'globals', _('General'));

		o = s.option(form.Flag, 'enabled', _('Enabled'), _('Run the wanbond agent (off by default until the concentrator and a link are set up).'));
		o.default = o.disabled;
		o.rmempty = false;
		o.validate = function(section_id, value) {
			if (value != '1' || !links)
				return true;
			var on = links.cfgsections().filter(function(sid) { return links.formvalue(sid, 'enabled') != '0'; });
			return on.length ? true : _('An enabled router needs at least one enabled link (add one under Links)');
		};
		// what is required depends on this switch: check those fields again when it flips
		o.onchange = function(ev, section_id, value) {
			[ 'host', 'public_key', 'site', 'subnet' ].forEach(function(name) {
				var c = m.lookupOption(name, 'concentrator');
				if (c)
					c[0].triggerValidation('concentrator');
			});
		};

		o = s.option(form.ListValue, 'mode', _('Bonding mode'),
			_('balance-rr spreads every packet over all links (fastest for one download); active-backup uses one link at a time; balance-xor keeps each flow on one link; broadcast sends everything over every link (lowest loss, no extra speed).'));
		o.value('balance-rr', _('balance-rr (round robin)'));
		o.value('balance-xor', _('balance-xor (per flow)'));
		o.value('active-backup', _('active-backup (failover)'));
		o.value('broadcast', _('broadcast (duplicate)'));
		o.default = 'balance-rr';

		o = s.option(form.Value, 'mtu', _('Bond MTU'), _('"auto" derives it from the links\' path MTU minus tunnel overhead.'));
		o.placeholder = 'auto';
		o.validate = check(validate.mtu, true);

		o = s.option(form.Flag, 'nat', _('Masquerade LAN'), _('Translate LAN addresses into the bond\'s address before the tunnel.'));
		o.default = o.enabled;

		o = s.option(form.Value, 'shaping', _('Shaping (%)'),
			_('Shape each link to this percent of its configured download and upload rates, with fq_codel, so queues stay short and calls stay smooth during downloads. 0 turns it off; links without rates are not shaped.'));
		o.placeholder = '95';
		o.validate = check(validate.shaping, true);

		o = s.option(form.Value, 'express_bytes', _('Express path (bytes)'),
			_('Calls, games, DNS and pings (non-TCP packets up to this size) leave by the link with the lowest delay instead of waiting for the slowest link in the bond. Connections that carry bigger packets, and all TCP, stay in the bond. 256 suits calls; 0 (the default) turns it off.'));
		o.placeholder = '0';
		o.validate = check(validate.expressBytes, true);

		o = s.option(form.Flag, 'fallback', _('Direct fallback'),
			_('When the concentrator is unreachable, send LAN traffic straight out of the links.'));
		o.default = o.enabled;

		o = s.option(form.Value, 'fallback_timeout', _('Fallback after (s)'));
		o.placeholder = '30';
		o.depends('fallback', '1');
		o.validate = check(validate.fallbackTimeout, true);

		o = s.option(form.DynamicList, 'bypass_dst', _('Bypass destinations'),
			_('IPv4 networks reached directly, never through the bond (a.b.c.d/len).'));
		o.validate = check(validate.ipv4Cidr, true);

		o = s.option(form.DynamicList, 'bypass_src', _('Bypass LAN sources'),
			_('LAN hosts or networks that never use the bond (a.b.c.d/len).'));
		o.validate = check(validate.ipv4Cidr, true);

		o = s.option(form.ListValue, 'log_level', _('Log level'));
		[ 'debug', 'info', 'warn', 'error' ].forEach(function(l) { o.value(l); });
		o.default = 'info';

		/* Concentrator */
		s = m.section(form.NamedSection, 'concentrator', 'concentrator', _('Concentrator'),
			_('The server with a stable public address where the tunnels end. Its values come from "wanbond site add" on the concentrator.'));

		o = s.option(form.Value, 'host', _('Host'));
		o.placeholder = 'vpn.example.net';
		o.validate = neededWhenEnabled(validate.host);

		o = s.option(form.Value, 'port', _('Port'));
		o.placeholder = '51820';
		o.validate = check(validate.port, true);

		o = s.option(form.Value, 'public_key', _('Public key'), _('The concentrator\'s WireGuard public key.'));
		o.validate = neededWhenEnabled(validate.wgKey);

		o = s.option(form.Value, 'site', _('Site name'));
		o.validate = neededWhenEnabled(validate.siteName);

		o = s.option(form.Value, 'subnet', _('Tunnel subnet'), _('The /24 this site uses inside the tunnels, the same as on the concentrator.'));
		o.placeholder = '10.213.7.0/24';
		o.validate = neededWhenEnabled(validate.subnet24);

		/* Links */
		s = links = m.section(form.TypedSection, 'link', _('Links'),
			_('One entry per internet link (modem, DSL, Starlink…), each a network interface with its own gateway. Names: 1 to 12 letters, digits or _. A backup link joins the bond only when no active link is usable; the weight (1-100) and the optional rates (kbit/s) share traffic between links; the link number (1-16) must be unique and never change, it numbers the tunnel on both ends.'));
		s.addremove = true;
		s.anonymous = false;
		s.addbtntitle = _('Add link');

		s.handleAdd = function(ev, name) {
			var ok = validate.linkName(name);
			if (ok === true && uci.get('wanbond', name))
				ok = _('There is already a section named %s').format(name);
			if (ok !== true) {
				ui.addNotification(null, E('p', {}, [ ok ]), 'danger');
				return Promise.resolve();
			}
			var used = {};
			uci.sections('wanbond', 'link').forEach(function(l) { used[l.id] = true; });
			var id = 1;
			while (used[String(id)] && id < 16)
				id++;
			uci.add('wanbond', 'link', name);
			uci.set('wanbond', name, 'id', String(id));
			uci.set('wanbond', name, 'enabled', '1');
			// a link is what "enabled" may have been missing
			var e = m.lookupOption('enabled', 'globals');
			if (e)
				e[0].triggerValidation('globals');
			// adding saves the form: say so when other fields stop it
			return this.map.save(null, true).catch(function(err) {
				uci.remove('wanbond', name);
				ui.addNotification(null, E('p', {}, [ _('Correct the fields marked in red first: %s').format(err.message) ]), 'danger');
			});
		};

		o = s.option(form.Flag, 'enabled', _('Enabled'));
		o.default = o.enabled;
		o.rmempty = false;

		o = s.option(form.ListValue, 'interface', _('Interface'));
		o.optional = true;
		var seen = {};
		ifaces.filter(function(i) { return i.interface && i.interface != 'loopback'; })
			.sort(function(a, b) { return a.interface < b.interface ? -1 : 1; })
			.forEach(function(i) {
				seen[i.interface] = true;
				o.value(i.interface, '%s (%s, %s)'.format(i.interface, i.l3_device || i.device || '-', i.up ? _('up') : _('down')));
			});
		uci.sections('wanbond', 'link').forEach(function(l) {
			if (l.interface && !seen[l.interface]) {
				seen[l.interface] = true;
				o.value(l.interface, _('%s (not found)').format(l.interface));
			}
		});
		// As the agent: a link names its netifd interface, or (set on the command line) a
		// device and gateway instead, never both; two links never share an interface.
		o.validate = function(section_id, value) {
			var pinned = uci.get('wanbond', section_id, 'device') || uci.get('wanbond', section_id, 'gateway');
			if (!value)
				return pinned ? true : _('Choose the link\'s network interface');
			if (pinned)
				return _('This link uses device %s and gateway %s (set on the command line): set either those or an interface, not both').format(
					uci.get('wanbond', section_id, 'device') || '-', uci.get('wanbond', section_id, 'gateway') || '-');
			var ok = validate.interfaceName(value);
			if (ok !== true)
				return ok;
			var sect = this.section, clash = sect.cfgsections().filter(function(sid) {
				return sid != section_id && sect.formvalue(sid, 'interface') == value;
			});
			return clash.length ? _('Interface %s is already used by link %s').format(value, clash[0]) : true;
		};

		o = s.option(form.ListValue, 'role', _('Role'));
		o.value('active', _('active'));
		o.value('backup', _('backup'));
		o.default = 'active';

		o = s.option(form.Value, 'weight', _('Weight'));
		o.placeholder = '1';
		o.validate = check(validate.weight, true);

		o = s.option(form.Value, 'rate_down', _('Download rate (kbit/s)'));
		o.validate = check(validate.rate, true);

		o = s.option(form.Value, 'rate_up', _('Upload rate (kbit/s)'));
		o.validate = check(validate.rate, true);

		o = s.option(form.Value, 'id', _('Link number'));
		o.rmempty = false;
		o.validate = function(section_id, value) {
			var ok = check(validate.linkId)(section_id, value);
			if (ok !== true)
				return ok;
			var sect = this.section, clash = sect.cfgsections().filter(function(sid) {
				return sid != section_id && String(sect.formvalue(sid, 'id')) == String(value);
			});
			return clash.length ? _('Link number %s is already used by link %s').format(value, clash[0]) : true;
		};

		/* Health */
		s = m.section(form.NamedSection, 'health', 'health', _('Health checks'),
			_('Same meaning as in mwan3: a link leaves the bond after "down" failed probes in a row and returns after "up" good ones.'));

		// As the agent: recovery must not be worse than failure (else a link would flap); an
		// empty value counts as the agent's default.
		var notAbove = function(rule, failure, message) {
			return function(section_id, value) {
				var ok = check(rule, true)(section_id, value),
				    mine = value || HEALTH_DEFAULTS[this.option],
				    limit = this.section.formvalue(section_id, failure) || HEALTH_DEFAULTS[failure];
				return (ok === true && +mine > +limit) ? message.format(mine, limit) : ok;
			};
		};

		[
			[ 'interval', _('Probe interval (s)'), check(validate.probeInterval, true) ],
			[ 'failure_latency', _('Failure latency (ms)'), check(validate.latency, true) ],
			[ 'recovery_latency', _('Recovery latency (ms)'), notAbove(validate.latency, 'failure_latency',
				_('Recovery latency (%s ms) must not exceed the failure latency (%s ms): a link must be better to come back than to stay')) ],
			[ 'failure_loss', _('Failure loss (%)'), check(validate.failureLoss, true) ],
			[ 'recovery_loss', _('Recovery loss (%)'), notAbove(validate.recoveryLoss, 'failure_loss',
				_('Recovery loss (%s %%) must not exceed the failure loss (%s %%): a link must be better to come back than to stay')) ],
			[ 'down', _('Down after (failed probes)'), check(validate.probeCount, true) ],
			[ 'up', _('Up after (good probes)'), check(validate.probeCount, true) ]
		].forEach(function(spec) {
			o = s.option(form.Value, spec[0], spec[1]);
			o.placeholder = HEALTH_DEFAULTS[spec[0]];
			o.validate = spec[2];
		});

		/* MQTT */
		s = m.section(form.NamedSection, 'mqtt', 'mqtt', _('MQTT telemetry'),
			_('Publish the status to an MQTT broker, with Home Assistant discovery if you like.'));

		o = s.option(form.Flag, 'enabled', _('Enabled'));

		// The options of a switched-off MQTT are kept (retain): turning it back on loses nothing.
		var mqttOption = function(cls, name, title, rule, placeholder, description) {
			var opt = s.option(cls, name, title, description);
			opt.depends('enabled', '1');
			opt.retain = true;
			opt.placeholder = placeholder;
			if (rule)
				opt.validate = (typeof(rule) == 'function' && rule.length == 2) ? rule : check(rule, name != 'broker');
			return opt;
		};

		mqttOption(form.Value, 'broker', _('Broker URL'), validate.broker, 'mqtts://broker.example.net:8883');
		mqttOption(form.Value, 'username', _('Username'), validate.text);
		mqttOption(form.Value, 'password', _('Password'), validate.text).password = true;
		mqttOption(form.Value, 'client_id', _('Client ID'), validate.clientId, 'wanbond-<hostname>');
		mqttOption(form.Value, 'topic_prefix', _('Topic prefix'), validate.topic, 'wanbond/<hostname>');
		mqttOption(form.Value, 'interval', _('Publish interval (s)'), validate.mqttInterval, '10');

		o = mqttOption(form.ListValue, 'qos', _('QoS'));
		[ '0', '1', '2' ].forEach(function(q) { o.value(q); });
		o.default = '0';

		// As the agent: a CA file only means something for a TLS broker.
		mqttOption(form.Value, 'ca_file', _('CA file'), function(section_id, value) {
			var ok = check(validate.absolutePath, true)(section_id, value),
			    scheme = (/^([a-z]+):/i.exec(this.section.formvalue(section_id, 'broker') || '') || [])[1];
			if (ok === true && value && scheme && !/^(mqtts|wss)$/i.test(scheme))
				return _('A CA file only applies to mqtts:// or wss:// brokers (the broker is %s://)').format(scheme.toLowerCase());
			return ok;
		}, null, _('For mqtts:// or wss:// with a private CA.'));

		mqttOption(form.Flag, 'insecure', _('Skip certificate check'));
		mqttOption(form.Flag, 'ha_discovery', _('Home Assistant discovery')).default = '1';

		o = s.option(form.Value, 'ha_prefix', _('Discovery prefix'));
		o.placeholder = 'homeassistant';
		o.depends('ha_discovery', '1');
		o.retain = true;
		o.validate = check(validate.topic, true);

		return m.render();
	}
});
