'use strict';
'require baseclass';

// The browser-side copy of the agent's config rules (src/config/schema.ts, validators.ts and
// the cross-option rules of semantics.ts), so a bad value is refused while typing instead of
// after Save & Apply. Each function takes the option's string value and returns true or a
// message. The agent still has the last word: Save & Apply shows what it refuses.

var OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
var IPV4 = new RegExp('^' + OCTET + '\\.' + OCTET + '\\.' + OCTET + '\\.' + OCTET + '$');

function isIPv4(s) {
	return IPV4.test(s);
}

// The browser's URL parser knows IPv6 literals (the WHATWG host parser, as node's URL).
function isIPv6(s) {
	if (!/^[0-9a-fA-F:.]+$/.test(s) || s.indexOf(':') < 0)
		return false;
	try { new URL('http://[' + s + ']/'); return true; }
	catch (e) { return false; }
}

function whole(s, min, max, unit) {
	var u = unit ? ' ' + unit : '';
	if (!/^(0|[1-9][0-9]{0,9})$/.test(s))
		return _('\'%s\' is not a whole number').format(s);
	if (+s < min || +s > max)
		return _('%s%s is out of range (%d..%d%s)').format(s, u, min, max, u);
	return true;
}

function decimal(s, min, max, unit) {
	var u = unit ? ' ' + unit : '';
	if (!/^(0|[1-9][0-9]{0,6})(\.[0-9]{1,6})?$|^\.[0-9]{1,6}$/.test(s))
		return _('\'%s\' is not a number').format(s);
	if (+s < min || +s > max)
		return _('%s%s is out of range (%s..%s%s)').format(s, u, min, max, u);
	return true;
}

function printable(s) {
	if (/[\x00-\x1f\x7f]/.test(s))
		return _('contains a control character');
	if (/\s/.test(s))
		return _('contains whitespace');
	return true;
}

function hostname(s) {
	if (s.charAt(0) == '-')
		return _('must not start with \'-\'');
	var p = printable(s);
	if (p !== true)
		return p;
	if (isIPv4(s) || isIPv6(s))
		return true;
	if (s.charAt(0) == '[')
		return _('\'%s\': write an IPv6 address without brackets').format(s);
	var name = s.replace(/\.$/, '');
	if (name.length > 253)
		return _('is longer than 253 characters');
	var ok = name.split('.').every(function(l) { return /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l); });
	if (!ok)
		return _('\'%s\' is not a hostname, IPv4 or IPv6 address').format(s);
	if (/^[0-9.]+$/.test(name))
		return _('\'%s\' is not a valid IPv4 address').format(s);
	return true;
}

function ipv4Cidr(s) {
	var m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(s);
	if (!m || !isIPv4(m[1]) || (m[2].length > 1 && m[2].charAt(0) == '0') || +m[2] > 32)
		return null;
	var n = m[1].split('.').reduce(function(a, o) { return a * 256 + +o; }, 0);
	return { network: n, prefix: +m[2] };
}

// An IPv4 prefix with no host bits set, as the agent's checkIPv4Cidr: true or the problem.
function cidrProblem(v) {
	var c = ipv4Cidr(v);
	if (!c)
		return _('\'%s\' is not an IPv4 prefix (a.b.c.d/len, len 0..32)').format(v);
	var size = Math.pow(2, 32 - c.prefix), base = c.network - (c.network % size);
	if (base != c.network)
		return _('\'%s\' has host bits set (did you mean %s/%d?)').format(v,
			[ 24, 16, 8, 0 ].map(function(b) { return Math.floor(base / Math.pow(2, b)) % 256; }).join('.'), c.prefix);
	return true;
}

function name(s, max, what) {
	if (!/^[A-Za-z0-9_]+$/.test(s))
		return _('%s \'%s\' may only use letters, digits and \'_\'').format(what, s);
	if (s.length > max)
		return _('%s \'%s\' is longer than %d characters').format(what, s, max);
	return true;
}

return baseclass.extend({
	isIPv4: isIPv4,
	isIPv6: isIPv6,

	linkName: function(v) { return name(v || '', 12, _('Link name')); },
	siteName: function(v) { return name(v || '', 12, _('Site name')); },

	interfaceName: function(v) {
		if (!/^[A-Za-z0-9_]+$/.test(v))
			return _('\'%s\' is not a netifd interface name (letters, digits and \'_\' only)').format(v);
		return (v.length > 15) ? _('\'%s\' is longer than 15 characters').format(v) : true;
	},

	linkId: function(v) { return whole(v, 1, 16); },
	weight: function(v) { return whole(v, 1, 100); },
	rate: function(v) { return whole(v, 1, 10000000, 'kbit/s'); },
	port: function(v) { return whole(v, 1, 65535); },
	fallbackTimeout: function(v) { return whole(v, 1, 3600, 's'); },
	shaping: function(v) {
		var r = whole(v, 0, 100, '%');
		return (r === true && +v > 0 && +v < 50) ? _('%s %% is too low: 0 (off) or 50..100').format(v) : r;
	},
	expressBytes: function(v) { return whole(v, 0, 1280, 'bytes'); },
	mqttInterval: function(v) { return whole(v, 1, 3600, 's'); },
	probeInterval: function(v) { return decimal(v, 0.01, 60, 's'); },
	latency: function(v) { return whole(v, 10, 60000, 'ms'); },
	failureLoss: function(v) { return whole(v, 1, 100, '%'); },
	recoveryLoss: function(v) { return whole(v, 0, 100, '%'); },
	probeCount: function(v) { return whole(v, 1, 1000); },

	mtu: function(v) {
		if (v === 'auto')
			return true;
		if (!/^(0|[1-9][0-9]{0,5})$/.test(v))
			return _('\'%s\' is not \'auto\' or a number of bytes (576..9000)').format(v);
		if (+v < 576 || +v > 9000)
			return _('%s bytes is out of range (576..9000, or \'auto\')').format(v);
		return true;
	},

	host: hostname,

	wgKey: function(v) {
		// base64 of 32 bytes: 43 characters, the last of them carrying 2 spare zero bits, and '='
		if (!/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(v))
			return _('is not a WireGuard key (44 characters of base64 ending in =, as `wg genkey` prints)');
		if (/^A{43}=$/.test(v))
			return _('is the all-zero key');
		return true;
	},

	ipv4Cidr: cidrProblem,

	subnet24: function(v) {
		var ok = cidrProblem(v);
		if (ok !== true)
			return ok;
		return (ipv4Cidr(v).prefix == 24) ? true : _('\'%s\' must be a /24 (the site\'s tunnel network, e.g. 10.213.7.0/24)').format(v);
	},

	absolutePath: function(v) {
		if (v.charAt(0) != '/')
			return _('\'%s\' is not an absolute path (start with /)').format(v);
		var p = printable(v);
		if (p !== true)
			return p;
		if (!/^[A-Za-z0-9_.\/@+=,-]+$/.test(v))
			return _('\'%s\' has characters not allowed in a file name here (letters, digits, _ . / @ + = , -)').format(v);
		if (v.split('/').some(function(c) { return c == '.' || c == '..' || c.charAt(0) == '-'; }))
			return _('\'%s\' has a \'.\', \'..\' or \'-…\' component').format(v);
		if (v.charAt(v.length - 1) == '/')
			return _('\'%s\' names a directory, not a file').format(v);
		return true;
	},

	broker: function(v) {
		var p = printable(v);
		if (p !== true)
			return p;
		var m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(v);
		if (!m)
			return _('\'%s\' is not a URL (mqtt://host:1883, mqtts://, ws://, wss://)').format(v);
		if ([ 'mqtt', 'mqtts', 'ws', 'wss' ].indexOf(m[1].toLowerCase()) < 0)
			return _('scheme \'%s\' is not one of mqtt, mqtts, ws, wss').format(m[1]);
		var url;
		try { url = new URL(v); } catch (e) { return _('\'%s\' is not a valid URL').format(v); }
		if (url.username || url.password)
			return _('put credentials in the username and password options, not in the URL');
		var h = url.hostname.replace(/^\[(.*)\]$/, '$1'), hp = hostname(h);
		if (hp !== true)
			return _('host %s').format(hp);
		if (url.search || url.hash)
			return _('must not have a query or fragment');
		if (/^mqtts?$/i.test(m[1]) && url.pathname !== '' && url.pathname !== '/')
			return _('an %s:// URL has no path').format(m[1]);
		return true;
	},

	topic: function(v) {
		if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(v))
			return _('\'%s\' is not a topic prefix (letters, digits, \'_\', \'-\' in \'/\'-separated levels; no wildcards)').format(v);
		return (v.length > 128) ? _('is longer than 128 characters') : true;
	},

	clientId: function(v) {
		return (/^[A-Za-z0-9_.-]{1,64}$/.test(v) && v.charAt(0) != '-') ? true
			: _('\'%s\' is not a client id (1..64 of letters, digits, \'_\', \'.\', \'-\')').format(v);
	},

	text: function(v) {
		if (/[\x00-\x1f\x7f]/.test(v))
			return _('contains a control character');
		return (v.length > 256) ? _('is longer than 256 characters') : true;
	}
});
