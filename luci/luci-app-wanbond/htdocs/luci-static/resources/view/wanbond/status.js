'use strict';
'require view';
'require rpc';
'require poll';
'require dom';
'require ui';

// Status of the bond and of every link, refreshed by LuCI's poller; the chart keeps the last
// ten minutes of samples in the page (the agent keeps no history).

var callStatus = rpc.declare({
	object: 'wanbond',
	method: 'status',
	expect: { '': {} }
});

var callSetLink = rpc.declare({
	object: 'wanbond',
	method: 'set_link',
	params: [ 'link', 'enabled' ]
});

var HISTORY_SECONDS = 600;
var SVG_NS = 'http://www.w3.org/2000/svg';
var COLORS = [ '#2a76c6', '#e0762c', '#3a9a4a', '#a33fb0', '#c7392f', '#1d9aa8', '#8a6d1f', '#5b5b5b' ];

var STATES = {
	up:       { cls: 'label success',   text: _('Up') },
	degraded: { cls: 'label warning',   text: _('Degraded') },
	down:     { cls: 'label important', text: _('Down') },
	disabled: { cls: 'label',           text: _('Disabled') },
	backup:   { cls: 'label notice',    text: _('Backup') }
};

function badge(state) {
	var s = STATES[state] || { cls: 'label', text: state || '?' };
	return E('span', { 'class': s.cls, 'data-state': state }, [ s.text ]);
}

/* The link this end's express traffic leaves by now (the agent reads it from the kernel's routes). */
function expressBadge(express) {
	if (!express)
		return '';
	return E('span', {
		'class': 'label wanbond-express',
		'title': _('Small non-TCP packets (calls, DNS, games) leave by this link, bypassing the bond\'s delay equalisation')
	}, [ _('Express') ]);
}

function fmtRate(kbit) {
	if (kbit == null || isNaN(kbit))
		return '-';
	if (kbit >= 1000)
		return '%.1f Mbit/s'.format(kbit / 1000);
	return '%d kbit/s'.format(Math.round(kbit));
}

/* A link's capacity under its current rate: "of 40.0 Mbit/s" (configured), "of ~11.8 Mbit/s" (measured). */
function capacityNote(kbit, source) {
	if (kbit == null || isNaN(kbit))
		return '';
	var measured = (source == 'measured');
	return E('small', {
		'class': 'wanbond-capacity',
		'title': measured ? _('Capacity measured by packet trains') : (source == 'router' ? _('Capacity as the router reported it') : _('Capacity as configured'))
	}, [ _('of %s').format((measured ? '~' : '') + fmtRate(kbit)) ]);
}

function fmtMs(v) {
	return (v == null) ? '-' : '%.1f ms'.format(v);
}

function fmtPct(v) {
	return (v == null) ? '-' : '%.1f %%'.format(v);
}

function fmtBytes(b) {
	var units = [ 'B', 'KiB', 'MiB', 'GiB', 'TiB' ], i = 0;
	b = +b || 0;
	while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
	return (i ? '%.1f %s' : '%d %s').format(b, units[i]);
}

function fmtSince(since) {
	if (!since)
		return '-';
	var ago = Math.max(0, Math.floor(Date.now() / 1000 - since));
	return E('span', { 'title': new Date(since * 1000).toLocaleString() }, [ (ago < 60 ? _('%d s ago') : _('%t ago')).format(ago) ]);
}

// What a person wants to know first: can traffic flow, and how much of the bond is left.
function health(st) {
	var links = Array.isArray(st.links) ? st.links : [],
	    members = (st.bond && Array.isArray(st.bond.members)) ? st.bond.members.length : 0,
	    usable = links.filter(function(l) { return l.status != 'disabled'; }).length,
	    troubled = links.filter(function(l) { return l.status == 'down' || l.status == 'degraded'; }).length;

	if (st.globals && st.globals.enabled === false)
		return [ 'label', _('Disabled'), _('wanbond is disabled in its settings') ];
	if (st.concentrator && st.concentrator.reachable === false)
		return [ 'label important', _('Offline'), st.fallback
			? _('Concentrator unreachable: LAN traffic goes out directly (fallback)')
			: _('Concentrator unreachable') ];
	if (members == 0)
		return [ 'label important', _('Offline'), _('No link is carrying traffic') ];
	if (troubled > 0)
		return [ 'label warning', _('Degraded'), _('%d of %d links carry traffic').format(members, usable) ];
	return [ 'label success', _('Healthy'), _('%d of %d links carry traffic').format(members, usable) ];
}

function svg(tag, attrs, children) {
	var el = document.createElementNS(SVG_NS, tag);
	for (var k in attrs)
		if (attrs[k] != null)
			el.setAttribute(k, attrs[k]);
	(children || []).forEach(function(c) {
		el.appendChild(typeof(c) == 'string' ? document.createTextNode(c) : c);
	});
	return el;
}

function niceMax(v) {
	if (!(v > 0))
		return 1;
	var p = Math.pow(10, Math.floor(Math.log10(v))), n = v / p;
	return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * p;
}

return view.extend({
	history: null,
	colors: null,
	last: null,

	// A stopped agent has no ubus object: the page says so and keeps polling until it is back.
	fetchStatus: function() {
		return callStatus().catch(function(e) { return { unreachable: e.message }; });
	},

	load: function() {
		return this.fetchStatus();
	},

	colorOf: function(name) {
		if (!(name in this.colors))
			this.colors[name] = COLORS[Object.keys(this.colors).length % COLORS.length];
		return this.colors[name];
	},

	record: function(st) {
		var now = Date.now() / 1000, sample = { t: now, links: {} };
		(st.links || []).forEach(function(l) {
			sample.links[l.name] = {
				rtt: l.rtt_ms,
				down: l.rx_rate_kbit,
				up: l.tx_rate_kbit
			};
		});
		this.history.push(sample);
		while (this.history.length && this.history[0].t < now - HISTORY_SECONDS)
			this.history.shift();
	},

	// One SVG line chart: a line per link (and an optional dashed second series), time on x.
	// The time axis grows with the page's age, from 10 s up to HISTORY_SECONDS.
	renderChart: function(id, title, series, fmt) {
		var W = 600, H = 190, L = 8, R = 8, T = 26, B = 22,
		    now = Date.now() / 1000, max = 0, names = {}, self = this,
		    span = this.history.length ? Math.min(HISTORY_SECONDS, Math.max(10, now - this.history[0].t)) : 10;

		this.history.forEach(function(s) {
			for (var n in s.links) {
				names[n] = true;
				series.forEach(function(key) {
					var v = s.links[n][key.key];
					if (v != null && v > max) max = v;
				});
			}
		});
		max = niceMax(max);

		var x = function(t) { return L + (W - L - R) * Math.max(0, 1 - (now - t) / span); },
		    y = function(v) { return T + (H - T - B) * (1 - v / max); },
		    grid = [], lines = [];

		for (var i = 0; i <= 4; i++) {
			var gy = T + (H - T - B) * i / 4;
			grid.push(svg('line', { x1: L, x2: W - R, y1: gy, y2: gy, 'class': 'wanbond-grid' }));
		}

		Object.keys(names).sort().forEach(function(n) {
			series.forEach(function(key) {
				var pts = [];
				self.history.forEach(function(s) {
					var v = s.links[n] ? s.links[n][key.key] : null;
					if (v != null)
						pts.push('%.1f,%.1f'.format(x(s.t), y(v)));
				});
				if (pts.length)
					lines.push(svg('polyline', {
						'points': pts.join(' '),
						'data-link': n,
						'data-series': key.key,
						'fill': 'none',
						'stroke': self.colorOf(n),
						'stroke-width': 2,
						'stroke-linejoin': 'round',
						'stroke-dasharray': key.dash || null
					}));
			});
		});

		var ago = (span >= 120) ? _('%d min ago').format(Math.round(span / 60)) : _('%d s ago').format(Math.round(span));

		return svg('svg', {
			'id': id, 'class': 'wanbond-chart', 'viewBox': '0 0 %d %d'.format(W, H),
			'role': 'img', 'aria-label': title, 'data-max': max, 'data-span': Math.round(span)
		}, [].concat(grid, lines, [
			svg('text', { x: L, y: 17, 'class': 'wanbond-axis wanbond-title' }, [ title ]),
			svg('text', { x: W - R, y: 17, 'class': 'wanbond-axis', 'text-anchor': 'end' }, [ _('top: %s').format(fmt(max)) ]),
			svg('text', { x: L, y: H - 5, 'class': 'wanbond-axis' }, [ ago ]),
			svg('text', { x: W - R, y: H - 5, 'class': 'wanbond-axis', 'text-anchor': 'end' }, [ _('now') ])
		]));
	},

	renderLegend: function(st) {
		var self = this;
		return E('div', { 'class': 'wanbond-legend' }, (st.links || []).map(function(l) {
			return E('span', { 'class': 'wanbond-legend-item' }, [
				E('span', { 'class': 'wanbond-swatch', 'style': 'background:' + self.colorOf(l.name) }),
				' ', l.name
			]);
		}).concat([ E('span', { 'class': 'wanbond-legend-item' }, [ _('solid: down, dashed: up') ]) ]));
	},

	// Taking out the last link that carries traffic cuts the site off (and maybe this very
	// page, if it is reached through the bond): ask first.
	handleSetLink: function(name, enabled, ev) {
		var members = (this.last && this.last.bond && this.last.bond.members) || [];
		if (enabled || !(members.length == 1 && members[0] == name))
			return this.setLink(name, enabled);

		var self = this;
		ui.showModal(_('Take out the last link?'), [
			E('p', {}, [ _('%s is the only link carrying traffic. Taking it out stops all internet traffic of this site, and you may lose this page if you reach it through the bond.').format(name) ]),
			E('div', { 'class': 'right' }, [
				E('button', { 'class': 'cbi-button', 'click': ui.hideModal }, [ _('Cancel') ]), ' ',
				E('button', { 'class': 'cbi-button cbi-button-negative', 'id': 'wanbond-confirm-take-out', 'click': ui.createHandlerFn(this, function() {
					ui.hideModal();
					return self.setLink(name, enabled);
				}) }, [ _('Take it out') ])
			])
		]);
		return Promise.resolve();
	},

	setLink: function(name, enabled) {
		return callSetLink(name, enabled).then(L.bind(function(res) {
			var err = null;
			if (typeof(res) == 'number' && res != 0)
				err = rpc.getStatusText(res);
			else if (L.isObject(res) && res.ok === false)
				err = res.message || res.error || _('refused');
			if (err)
				ui.addNotification(null, E('p', {}, [ _('Could not change link %s: %s').format(name, err) ]), 'danger');
			return this.refresh();
		}, this)).catch(function(e) {
			ui.addNotification(null, E('p', {}, [ _('Could not change link %s: %s').format(name, e.message) ]), 'danger');
		});
	},

	renderLinkRow: function(l, i, writable) {
		var where = [ l.interface, l.device ].filter(function(v) { return v; }).join(' / ');
		var cells = [
			E('td', { 'class': 'td wanbond-link-name' }, [
				E('strong', {}, [ l.name ]), where ? E('br') : '', where ? E('small', {}, [ where ]) : ''
			]),
			E('td', { 'class': 'td', 'data-title': _('State') }, [
				badge(l.status), ' ',
				E('small', { 'title': l.in_bond ? _('In the bond') : _('Not in the bond') }, [ l.in_bond ? '\u25cf' : '\u25cb' ]),
				l.express ? ' ' : '', expressBadge(l.express)
			]),
			E('td', { 'class': 'td', 'data-title': _('RTT') }, [ fmtMs(l.rtt_ms) ]),
			E('td', { 'class': 'td', 'data-title': _('Jitter') }, [ fmtMs(l.jitter_ms) ]),
			E('td', { 'class': 'td', 'data-title': _('Loss') }, [ fmtPct(l.loss_pct) ]),
			E('td', { 'class': 'td', 'data-title': _('Down') }, [ fmtRate(l.rx_rate_kbit), ' ', capacityNote(l.capacity_down_kbit, l.capacity_down_source) ]),
			E('td', { 'class': 'td', 'data-title': _('Up') }, [ fmtRate(l.tx_rate_kbit), ' ', capacityNote(l.capacity_up_kbit, l.capacity_up_source) ]),
			E('td', { 'class': 'td', 'data-title': _('Since') }, [ fmtSince(l.since) ]),
			E('td', { 'class': 'td wanbond-reason', 'data-title': _('Why') }, [ l.reason || '-' ])
		];

		if (writable) {
			var out = (l.status != 'disabled');
			cells.push(E('td', { 'class': 'td cbi-section-actions' }, [
				E('button', {
					'class': out ? 'cbi-button cbi-button-negative' : 'cbi-button cbi-button-positive',
					'data-action': out ? 'take-out' : 'put-back',
					'title': out ? _('Take this link out of the bond until you put it back (the settings are not changed)')
					             : _('Put this link back into the bond'),
					'click': ui.createHandlerFn(this, 'handleSetLink', l.name, !out)
				}, [ out ? _('Take out') : _('Put back') ])
			]));
		}

		return E('tr', { 'class': 'tr cbi-rowstyle-%d'.format(1 + i % 2), 'data-link': l.name }, cells);
	},

	renderLinks: function(st) {
		var writable = (L.hasViewPermission() === true),
		    links = Array.isArray(st.links) ? st.links : [];
		var titles = [ _('Link'), _('State'), _('RTT'), _('Jitter'), _('Loss'), _('Down'), _('Up'), _('Since'), _('Why') ];
		if (writable)
			titles.push('');

		var rows = links.map(L.bind(function(l, i) { return this.renderLinkRow(l, i, writable); }, this));
		if (!rows.length)
			rows.push(E('tr', { 'class': 'tr placeholder' }, [
				E('td', { 'class': 'td' }, [ E('em', {}, [ _('No link is configured yet.') ]) ])
			]));

		return E('table', { 'class': 'table', 'id': 'wanbond-links' }, [
			E('tr', { 'class': 'tr table-titles' }, titles.map(function(t) { return E('th', { 'class': 'th' }, [ t ]); }))
		].concat(rows));
	},

	renderSummary: function(st) {
		var h = health(st), g = st.globals || {}, b = st.bond || {}, c = st.concentrator || {};
		var row = function(title, value, id) {
			return E('tr', { 'class': 'tr', 'id': id }, [
				E('td', { 'class': 'td left', 'width': '33%' }, [ title ]),
				E('td', { 'class': 'td left' }, value)
			]);
		};

		return E('table', { 'class': 'table', 'id': 'wanbond-summary' }, [
			row(_('Health'), [ E('span', { 'class': h[0], 'id': 'wanbond-health' }, [ h[1] ]), ' ', h[2] ], 'wanbond-health-row'),
			row(_('Bond'), [ '%s (%s), MTU %d'.format(b.name || '-', b.mode || g.mode || '-', b.mtu || 0) ]),
			row(_('In the bond'), [ (b.members && b.members.length) ? b.members.join(', ') : _('none') ], 'wanbond-members'),
			row(_('Throughput'), [ _('%s down, %s up').format(fmtRate(b.rx_rate_kbit), fmtRate(b.tx_rate_kbit)),
				E('small', {}, [ ' (' + _('%s received, %s sent').format(fmtBytes(b.rx_bytes), fmtBytes(b.tx_bytes)) + ')' ]) ]),
			row(_('Concentrator'), [
				E('span', { 'class': c.reachable ? 'label success' : 'label important', 'id': 'wanbond-concentrator' },
					[ c.reachable ? _('Reachable') : _('Unreachable') ]),
				' ', c.host || '-', ' ',
				c.since ? E('small', { 'title': new Date(c.since * 1000).toLocaleString() },
					[ '(' + _('for %t').format(Math.max(0, Math.floor(Date.now() / 1000 - c.since))) + ')' ]) : ''
			]),
			row(_('Agent'), [ _('wanbond %s on %s, running for %t').format(g.version || '?', g.hostname || '?', g.uptime || 0) ])
		]);
	},

	update: function(st) {
		if (st.unreachable) {
			dom.content(this.noticeBox, E('div', { 'class': 'alert-message warning', 'id': 'wanbond-unreachable' }, [
				E('strong', {}, [ _('The wanbond agent does not answer.') ]), ' ',
				_('It may be stopped or disabled (Settings → Enabled; /etc/init.d/wanbond start). Retrying…'),
				E('br'), E('small', {}, [ st.unreachable ])
			]));
			return;
		}
		dom.content(this.noticeBox, null);
		this.last = st;
		this.record(st);
		dom.content(this.summaryBox, this.renderSummary(st));
		dom.content(this.linksBox, this.renderLinks(st));
		dom.content(this.chartsBox, [
			E('div', { 'class': 'wanbond-chart-box' }, [ this.renderChart('wanbond-chart-rtt', _('Round-trip time'), [ { key: 'rtt' } ], fmtMs) ]),
			E('div', { 'class': 'wanbond-chart-box' }, [ this.renderChart('wanbond-chart-rate', _('Throughput'),
				[ { key: 'down' }, { key: 'up', dash: '5 4' } ], fmtRate) ]),
			this.renderLegend(st)
		]);
	},

	refresh: function() {
		return this.fetchStatus().then(L.bind(this.update, this));
	},

	render: function(st) {
		this.history = [];
		this.colors = {};

		this.noticeBox = E('div', { 'id': 'wanbond-notice' });
		this.summaryBox = E('div', { 'id': 'wanbond-summary-box' });
		this.linksBox = E('div', { 'id': 'wanbond-links-box' });
		this.chartsBox = E('div', { 'class': 'wanbond-charts', 'id': 'wanbond-charts' });

		var node = E('div', {}, [
			E('h2', { 'name': 'content' }, [ _('WAN Bonding') ]),
			E('div', { 'class': 'cbi-map-descr' }, [
				_('Every WAN link carries a tunnel to the concentrator; the tunnels are bonded into one. A link that fails or stalls leaves the bond, and connections carry on over the others.')
			]),
			E('style', {}, [
				'.wanbond-chart{width:100%;height:auto;display:block}',
				'.wanbond-grid{stroke:#ddd;stroke-width:1}',
				'.wanbond-axis{font-size:15px;fill:#666}',
				'.wanbond-title{font-weight:bold;fill:#404040}',
				'.wanbond-charts{display:flex;flex-wrap:wrap;gap:1em}',
				'.wanbond-chart-box{flex:1 1 320px;min-width:0}',
				'.wanbond-legend{flex:1 1 100%}',
				'.wanbond-legend-item{margin-right:1.2em;white-space:nowrap}',
				'.wanbond-swatch{display:inline-block;width:.9em;height:.9em;vertical-align:middle;border-radius:2px}',
				'.wanbond-reason{max-width:22em}',
				'.label.wanbond-express{background-color:#6259c4;cursor:help}'
			]),
			this.noticeBox,
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, [ _('Bond') ]),
				this.summaryBox
			]),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, [ _('Links') ]),
				this.linksBox
			]),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, [ _('Recent history') ]),
				E('div', { 'class': 'cbi-section-descr' }, [ _('Round-trip time and throughput of each link while this page is open (up to 10 minutes).') ]),
				this.chartsBox
			])
		]);

		this.update(st);
		poll.add(L.bind(this.refresh, this));

		return node;
	},

	handleSave: null,
	handleSaveApply: null,
	handleReset: null
});
