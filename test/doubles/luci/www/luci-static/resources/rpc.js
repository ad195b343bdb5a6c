'use strict';
'require baseclass';
'require request';

/*
 * TEST DOUBLE of LuCI's rpc.js: ubus JSON-RPC over HTTP POST to L.url('admin/ubus').
 * Same declare() options (object, method, params, expect, filter, reject) and the same reply
 * handling: [code, data] results, expect picks one key with a typed default, a JSON-RPC error
 * (uhttpd's "Access denied", …) rejects the promise, a non-zero ubus code resolves to the code
 * unless reject is set. No request batching.
 */

var rpcRequestID = 1,
    rpcSessionID = L.env.sessionid || '00000000000000000000000000000000',
    rpcBaseURL = L.url('admin/ubus');

var STATUS = [ 'Command OK', 'Invalid command', 'Invalid argument', 'Method not found',
	'Resource not found', 'No data received', 'Permission denied', 'Request timeout',
	'Not supported', 'Unspecified error', 'Connection lost' ];

return baseclass.extend({
	call: function(msg, req) {
		var url = rpcBaseURL + '/%s.%s'.format(msg.params[1], msg.params[2]);
		return request.post(url, msg, { timeout: (L.env.rpctimeout || 20) * 1000 }).then(
			L.bind(this.handleReply, this, req),
			function(e) { req.reject(e); });
	},

	handleReply: function(req, res) {
		var msg, ret;
		try {
			if (!res.ok)
				L.raise('RPCError', 'RPC call to %s/%s failed with HTTP error %d: %s', req.object, req.method, res.status, res.statusText || '?');
			msg = res.json();
			if (!L.isObject(msg) || msg.jsonrpc != '2.0')
				L.raise('RPCError', 'RPC call to %s/%s returned invalid message frame', req.object, req.method);
			if (L.isObject(msg.error) && msg.error.code && msg.error.message)
				L.raise('RPCError', 'RPC call to %s/%s failed with error %d: %s', req.object, req.method, msg.error.code, msg.error.message);
			if (Array.isArray(msg.result)) {
				if (req.raise && msg.result[0] !== 0)
					L.raise('RPCError', 'RPC call to %s/%s failed with ubus code %d: %s', req.object, req.method, msg.result[0], this.getStatusText(msg.result[0]));
				ret = (msg.result.length > 1) ? msg.result[1] : msg.result[0];
			}
		}
		catch (e) {
			return req.reject(e);
		}

		if (req.expect) {
			for (var key in req.expect) {
				if (ret != null && key != '')
					ret = ret[key];
				if (ret == null || Object.prototype.toString.call(ret) != Object.prototype.toString.call(req.expect[key]))
					ret = req.expect[key];
				break;
			}
		}

		if (typeof req.filter == 'function') {
			req.priv[0] = ret;
			req.priv[1] = req.params;
			ret = req.filter.apply(this, req.priv);
		}

		req.resolve(ret);
	},

	declare: function(options) {
		var rpc = this;
		return function() {
			var args = Array.prototype.slice.call(arguments);
			return new Promise(function(resolve, reject) {
				var params = {}, p = 0, priv = [ undefined, undefined ];
				if (Array.isArray(options.params))
					for (p = 0; p < options.params.length; p++)
						params[options.params[p]] = args[p];
				for (; p < args.length; p++)
					priv.push(args[p]);

				rpc.call({
					jsonrpc: '2.0', id: rpcRequestID++, method: 'call',
					params: [ rpcSessionID, options.object, options.method, params ]
				}, {
					expect: options.expect, filter: options.filter, resolve: resolve, reject: reject,
					params: params, priv: priv, object: options.object, method: options.method, raise: options.reject
				});
			});
		};
	},

	getSessionID: function() { return rpcSessionID; },
	setSessionID: function(sid) { rpcSessionID = sid; },
	getBaseURL: function() { return rpcBaseURL; },
	setBaseURL: function(url) { rpcBaseURL = url; },
	getStatusText: function(code) { return _(STATUS[code] || 'Unknown error code'); }
});
