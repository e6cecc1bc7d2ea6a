/**
 * The dashboard's browser code, inlined into the page. Plain ES2020, no template literals (this
 * file is itself one). Every row field is optional: the page renders whatever the daemon sends.
 */
export const DASHBOARD_SCRIPT = String.raw`
'use strict';
(function () {
  var MAX_EVENTS = 500;
  var $ = function (id) { return document.getElementById(id); };
  var model = { agents: [], devices: [], approvals: [], events: [], identity: null, supervised: [], chats: [], surfaces: [] };
  var ws = null, nextId = 1, pending = new Map(), retryMs = 500, refreshTimers = {};

  function isLoopbackName(h) {
    return h === '127.0.0.1' || h === 'localhost';
  }

  function daemonUrl() {
    var override = new URLSearchParams(location.search).get('ws');
    if (override) {
      try {
        var u = new URL(override);
        if (u.protocol === 'ws:' && isLoopbackName(u.hostname)) return u.href;
      } catch (e) { /* fall through */ }
      showError('ignoring ?ws=' + override + ': only ws://127.0.0.1 or ws://localhost addresses are allowed');
    }
    var own = Number(location.port || 80);
    return 'ws://127.0.0.1:' + (own - 1) + '/';
  }

  function showError(text) {
    var el = $('error');
    el.textContent = text || '';
    el.style.display = text ? 'block' : 'none';
  }

  function setStatus(text, cls) {
    var el = $('status');
    el.textContent = text;
    el.className = cls || '';
  }

  function call(method, params) {
    return new Promise(function (resolve, reject) {
      if (!ws || ws.readyState !== 1) { reject(new Error('not connected')); return; }
      var id = nextId++;
      pending.set(id, { resolve: resolve, reject: reject });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: id, method: method, params: params || {} }));
    });
  }

  function onFrame(data) {
    var msg;
    try { msg = JSON.parse(data); } catch (e) { return; }
    if (Array.isArray(msg)) { msg.forEach(function (m) { onFrame(JSON.stringify(m)); }); return; }
    if (msg.method === undefined && msg.id !== undefined && msg.id !== null) {
      var waiter = pending.get(msg.id);
      if (!waiter) return;
      pending.delete(msg.id);
      if (msg.error) waiter.reject(new Error((msg.error.message || 'error') + ' (' + msg.error.code + ')'));
      else waiter.resolve(msg.result);
      return;
    }
    if (typeof msg.method !== 'string') return;
    if (msg.id !== undefined && msg.id !== null) {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'the dashboard serves no methods' } }));
      return;
    }
    if (msg.method === 'host.event') onEvent(msg.params || {});
    else if (msg.method === 'a2ui.event') refresh('surfaces');
    else if (msg.method === 'approval.requested' || msg.method === 'approval.resolved') {
      onEvent({ kind: msg.method, payload: msg.params });
    }
  }

  function asList(value, key) {
    if (Array.isArray(value)) return value;
    if (value && Array.isArray(value[key])) return value[key];
    return [];
  }

  function onEvent(ev) {
    var key = eventKey(ev);
    if (key !== null && model.events.some(function (e) { return eventKey(e) === key; })) return;
    model.events.unshift(ev);
    if (model.events.length > MAX_EVENTS) model.events.length = MAX_EVENTS;
    var kind = String(ev.kind || '');
    if (kind.indexOf('approval.') === 0) { applyApprovalPayload(ev); refresh('approvals'); }
    else if (kind.indexOf('agent.') === 0) refresh('agents');
    else if (kind.indexOf('device.') === 0) refresh('devices');
    else if (kind.indexOf('supervisor.') === 0) refresh('supervised');
    else if (kind.indexOf('chat.') === 0) refresh('chats');
    render();
  }

  function eventKey(ev) {
    if (ev.id !== undefined && ev.id !== null) return 'id:' + ev.id;
    if (ev.sequence !== undefined && ev.sequence !== null) return 'seq:' + ev.sequence;
    return null;
  }

  /** Best effort from the event itself; the refresh that follows is authoritative. */
  function applyApprovalPayload(ev) {
    var p = ev.payload;
    var row = p && typeof p === 'object' ? (p.approval && typeof p.approval === 'object' ? p.approval : p) : null;
    if (!row || row.id === undefined) return;
    var i = model.approvals.findIndex(function (a) { return a.id === row.id; });
    if (i === -1) model.approvals.push(row);
    else model.approvals[i] = Object.assign({}, model.approvals[i], row);
  }

  var READERS = {
    agents: function () { return call('host.agents').then(function (r) { model.agents = asList(r, 'agents'); }); },
    devices: function () { return call('host.devices').then(function (r) { model.devices = asList(r, 'devices'); }); },
    approvals: function () { return call('host.approvals').then(function (r) { model.approvals = asList(r, 'approvals'); }); },
    supervised: function () { return call('agents.list').then(function (r) { model.supervised = asList(r, 'agents'); }); },
    chats: function () { return call('agents.chat.list').then(function (r) { model.chats = asList(r, 'sessions'); }); },
    surfaces: function () {
      return call('a2ui.surfaces').then(function (r) {
        return Promise.all(asList(r, 'surfaces').map(function (s) {
          return call('a2ui.get', { surfaceId: s.surfaceId }).then(function (g) { return g && g.surface; }, function () { return null; });
        }));
      }).then(function (list) { model.surfaces = list.filter(Boolean); });
    }
  };

  function refresh(what) {
    if (refreshTimers[what]) return;
    refreshTimers[what] = setTimeout(function () {
      refreshTimers[what] = null;
      READERS[what]().then(render, function () { /* keep what we have */ });
    }, 50);
  }

  function connect() {
    setStatus('connecting…', '');
    fetch('/auth-token', { cache: 'no-store' }).then(function (res) {
      if (res.status === 404) return null;
      if (!res.ok) throw new Error('GET /auth-token answered ' + res.status);
      return res.text();
    }).then(function (token) {
      open(token);
    }).catch(function (err) {
      showError(String(err && err.message || err));
      retry();
    });
  }

  function open(token) {
    var url = daemonUrl();
    try { ws = new WebSocket(url); } catch (e) { showError('cannot open ' + url + ': ' + e.message); retry(); return; }
    ws.onmessage = function (e) { onFrame(String(e.data)); };
    ws.onclose = function (e) {
      pending.forEach(function (w) { w.reject(new Error('connection closed')); });
      pending.clear();
      setStatus('disconnected (' + e.code + ')', 'down');
      retry();
    };
    ws.onopen = function () {
      var auth = token === null ? Promise.resolve(null) : call('session.auth', { token: token });
      auth.then(function () { return call('server.handshake', { protocol_version: 2, client_version: 'car-dashboard' }); })
        .then(function () { return call('host.subscribe', {}); })
        .then(function (snap) {
          snap = snap || {};
          model.agents = asList(snap.agents, 'agents');
          model.devices = asList(snap.devices, 'devices');
          model.approvals = asList(snap.approvals, 'approvals');
          model.events = asList(snap.events, 'events').slice().reverse().slice(0, MAX_EVENTS);
          if (snap.identity) model.identity = snap.identity;
          retryMs = 500;
          showError('');
          setStatus('live', 'live');
          render();
          refresh('supervised');
          refresh('chats');
          call('a2ui/subscribe', {}).then(function () { refresh('surfaces'); }, function () { /* a daemon without A2UI */ });
        })
        .catch(function (err) {
          showError('subscribing failed: ' + err.message);
          setStatus('error', 'down');
          try { ws.close(); } catch (e) { /* already closing */ }
        });
    };
  }

  function retry() {
    var wait = retryMs;
    retryMs = Math.min(retryMs * 2, 10000);
    setTimeout(connect, wait);
  }

  function resolveApproval(id, approved, buttons) {
    buttons.forEach(function (b) { b.disabled = true; });
    call('host.resolve_approval', { approval_id: id, approved: approved }).then(function (row) {
      var i = model.approvals.findIndex(function (a) { return a.id === id; });
      if (i !== -1) {
        if (row && typeof row === 'object' && row.id === id) model.approvals[i] = row;
        else model.approvals[i] = Object.assign({}, model.approvals[i], { status: approved ? 'approved' : 'denied' });
      }
      showError('');
      render();
      refresh('approvals');
    }, function (err) {
      buttons.forEach(function (b) { b.disabled = false; });
      showError('could not resolve ' + id + ': ' + err.message);
    });
  }

  // ---- rendering: DOM nodes with textContent only, never markup from the daemon ----

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'className') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function show(v) {
    if (v === undefined || v === null || v === '') return '';
    if (typeof v === 'string') return v;
    try { var s = JSON.stringify(v); return s.length > 400 ? s.slice(0, 400) + '…' : s; } catch (e) { return String(v); }
  }

  function time(v) {
    if (v === undefined || v === null || v === '') return '';
    var d = typeof v === 'number' ? new Date(v < 1e12 ? v * 1000 : v) : new Date(v);
    return isNaN(d.getTime()) ? String(v) : d.toLocaleTimeString();
  }

  function table(target, columns, rows, rowExtra) {
    var box = $(target);
    box.textContent = '';
    $(target + '-count').textContent = '(' + rows.length + ')';
    if (rows.length === 0) { box.appendChild(el('div', { className: 'empty', text: 'none' })); return; }
    var head = el('tr', null, columns.map(function (c) { return el('th', { text: c[0] }); }).concat(rowExtra ? [el('th', { text: '' })] : []));
    var body = rows.map(function (r) {
      var cells = columns.map(function (c) { return el('td', { text: c[1](r), className: c[2] || '' }); });
      if (rowExtra) cells.push(el('td', { className: 'actions' }, [rowExtra(r)]));
      return el('tr', { 'data-id': show(r.id) }, cells);
    });
    box.appendChild(el('table', null, [el('thead', null, [head]), el('tbody', null, body)]));
  }

  function isPending(a) { return a.status === undefined || a.status === null || /^pending$/i.test(String(a.status)); }

  function render() {
    var open = model.approvals.filter(isPending);
    table('approvals', [
      ['id', function (a) { return show(a.id); }],
      ['action', function (a) { return show(a.action || a.title); }],
      ['agent', function (a) { return show(a.agent_id); }],
      ['details', function (a) { return show(a.details !== undefined ? a.details : a.description); }, 'details'],
      ['requested', function (a) { return time(a.created_at); }]
    ], open, function (a) {
      var approve = el('button', { className: 'approve', text: 'Approve', 'data-action': 'approve' });
      var deny = el('button', { className: 'deny', text: 'Deny', 'data-action': 'deny' });
      var both = [approve, deny];
      approve.onclick = function () { resolveApproval(a.id, true, both); };
      deny.onclick = function () { resolveApproval(a.id, false, both); };
      return el('span', null, both);
    });
    table('agents', [
      ['id', function (a) { return show(a.id); }],
      ['name', function (a) { return show(a.name || a.display_name); }],
      ['kind', function (a) { return show(a.kind); }],
      ['status', function (a) { return show(a.status); }],
      ['task', function (a) { return show(a.current_task); }]
    ], model.agents);
    table('supervised', [
      ['id', function (a) { return show(a.spec && a.spec.id); }],
      ['status', function (a) { return show(a.status); }],
      ['pid', function (a) { return show(a.pid); }],
      ['restarts', function (a) { return show(a.restart_count); }],
      ['last exit', function (a) { return show(a.last_exit_code); }],
      ['attached', function (a) { return a.attached ? 'yes' : 'no'; }]
    ], model.supervised);
    table('chats', [
      ['session', function (c) { return show(c.session_id); }],
      ['agent', function (c) { return show(c.agent_id); }],
      ['started', function (c) { return time(c.created_at); }]
    ], model.chats);
    table('devices', [
      ['id', function (d) { return show(d.id); }],
      ['name', function (d) { return show(d.name); }],
      ['platform', function (d) { return show(d.platform); }],
      ['status', function (d) { return show(d.status); }],
      ['updated', function (d) { return time(d.updated_at); }]
    ], model.devices);
    table('sessions', [
      ['session', function (s) { return s.id; }],
      ['agents', function (s) { return s.agents.join(', '); }],
      ['devices', function (s) { return s.devices.join(', '); }],
      ['pending approvals', function (s) { return String(s.approvals); }]
    ], sessions());
    table('events', [
      ['#', function (e) { return show(e.sequence); }],
      ['time', function (e) { return time(e.timestamp); }],
      ['kind', function (e) { return show(e.kind); }, 'kind'],
      ['agent', function (e) { return show(e.agent_id); }],
      ['message', function (e) { return show(e.message) || show(e.payload); }, 'details']
    ], model.events);
    renderSurfaces();
    var id = model.identity;
    $('identity').textContent = id ? ['v' + show(id.version), id.pid !== undefined ? 'pid ' + id.pid : '', id.manifest_role ? 'role ' + id.manifest_role : ''].filter(Boolean).join(' · ') : '';
  }

  // ---- A2UI surfaces, read-only: the component tree as plain DOM, every value as text ----

  var SURFACE_MAX_DEPTH = 24, SURFACE_MAX_NODES = 400;

  function renderSurfaces() {
    var box = $('surfaces');
    box.textContent = '';
    $('surfaces-count').textContent = '(' + model.surfaces.length + ')';
    if (model.surfaces.length === 0) { box.appendChild(el('div', { className: 'empty', text: 'none' })); return; }
    model.surfaces.forEach(function (s) {
      var owner = s.owner || {};
      var head = el('div', { className: 'surface-head' }, [
        el('span', { className: 'kind', text: show(s.surfaceId) }),
        el('span', { className: 'muted', text: ' · ' + show(owner.source) + (owner.contextId ? ' ' + show(owner.contextId) : '') + ' · rev ' + show(s.revision) })
      ]);
      var byId = new Map();
      (Array.isArray(s.components) ? s.components : []).forEach(function (c) { if (c && typeof c.id === 'string') byId.set(c.id, c); });
      var ctx = { byId: byId, data: s.dataModel, nodes: 0 };
      var body = byId.has('root') ? renderNode(ctx, 'root', '', 0, []) : el('div', { className: 'empty', text: 'no root component yet' });
      box.appendChild(el('div', { className: 'surface', 'data-surface': show(s.surfaceId) }, [head, body]));
    });
  }

  function lookup(data, scope, path) {
    var abs = path.charAt(0) === '/' ? path : scope + '/' + path;
    var v = data;
    abs.split('/').slice(1).forEach(function (t) {
      if (t === '') return;
      var key = t.replace(/~1/g, '/').replace(/~0/g, '~');
      v = v !== null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
    });
    return v;
  }

  /** A literal, a data binding {path}, or a function call (not run here: shown as nothing). */
  function value(ctx, v, scope) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      if (typeof v.path === 'string') return lookup(ctx.data, scope, v.path);
      if (typeof v.call === 'string') return undefined;
    }
    return v;
  }

  function textOf(ctx, v, scope) { return show(value(ctx, v, scope)); }

  function renderNode(ctx, id, scope, depth, stack) {
    if (typeof id !== 'string') return el('span', { className: 'a2ui-missing', text: '[bad reference]' });
    var c = ctx.byId.get(id);
    if (!c) return el('span', { className: 'a2ui-missing', text: '[' + id + ']' });
    if (depth > SURFACE_MAX_DEPTH || stack.indexOf(id) !== -1 || ++ctx.nodes > SURFACE_MAX_NODES) return el('span', { className: 'muted', text: '…' });
    var inner = stack.concat([id]);
    var child = function (ref) { return renderNode(ctx, ref, scope, depth + 1, inner); };
    var node;
    switch (c.component) {
      case 'Text': node = el('div', { className: 'a2ui-text', text: textOf(ctx, c.text, scope) }); break;
      case 'Row': case 'Column': case 'List':
        node = el('div', { className: 'a2ui-' + c.component.toLowerCase() }, children(ctx, c.children, scope, depth, inner)); break;
      case 'Card': node = el('div', { className: 'a2ui-card' }, [child(c.child)]); break;
      case 'Button': node = el('button', { className: 'a2ui-button', disabled: '' }, [child(c.child)]); break;
      case 'Divider': node = el('hr', { className: 'a2ui-divider' }); break;
      case 'Tabs':
        node = el('div', { className: 'a2ui-tabs' }, (Array.isArray(c.tabs) ? c.tabs : []).map(function (t) {
          return el('div', { className: 'a2ui-tab' }, [el('div', { className: 'muted', text: textOf(ctx, t && t.title, scope) }), child(t && t.child)]);
        })); break;
      case 'Modal': node = el('div', { className: 'a2ui-modal' }, [child(c.trigger)]); break;
      case 'TextField': case 'DateTimeInput': case 'ChoicePicker': case 'Slider':
        node = el('div', { className: 'a2ui-input', text: textOf(ctx, c.label, scope) + (c.label !== undefined ? ': ' : '') + textOf(ctx, c.value, scope) }); break;
      case 'CheckBox':
        node = el('div', { className: 'a2ui-input', text: (value(ctx, c.value, scope) === true ? '[x] ' : '[ ] ') + textOf(ctx, c.label, scope) }); break;
      case 'Image': case 'Video': case 'AudioPlayer':
        node = el('div', { className: 'a2ui-media muted', text: '[' + c.component + ': ' + textOf(ctx, c.url, scope) + ']' }); break;
      case 'Icon': node = el('span', { className: 'muted', text: '[icon ' + textOf(ctx, c.name, scope) + ']' }); break;
      default: node = el('div', { className: 'muted', text: '[' + show(c.component) + ']' });
    }
    node.setAttribute('data-component', id);
    return node;
  }

  /** A static list of ids, or a template repeated over the list at its path. */
  function children(ctx, list, scope, depth, stack) {
    if (Array.isArray(list)) return list.map(function (ref) { return renderNode(ctx, ref, scope, depth + 1, stack); });
    if (list && typeof list === 'object' && typeof list.path === 'string') {
      var items = lookup(ctx.data, scope, list.path);
      var base = list.path.charAt(0) === '/' ? list.path : scope + '/' + list.path;
      if (!Array.isArray(items)) return [];
      return items.map(function (_, i) { return renderNode(ctx, list.componentId, base + '/' + i, depth + 1, stack); });
    }
    return [];
  }

  /** Sessions as far as the host state shows them: whoever owns an agent, a device or an approval. */
  function sessions() {
    var byId = new Map();
    function get(id) {
      if (!byId.has(id)) byId.set(id, { id: id, agents: [], devices: [], approvals: 0 });
      return byId.get(id);
    }
    model.agents.forEach(function (a) { if (a.session_id) get(String(a.session_id)).agents.push(show(a.name || a.id)); });
    model.devices.forEach(function (d) { if (d.session_id) get(String(d.session_id)).devices.push(show(d.name || d.id)); });
    model.approvals.forEach(function (a) { if (a.client_id && isPending(a)) get(String(a.client_id)).approvals++; });
    return Array.from(byId.values());
  }

  render();
  connect();
})();
`;
