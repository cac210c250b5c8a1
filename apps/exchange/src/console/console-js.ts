/**
 * The console's one script (served from /console/assets, allowed by the
 * page's nonce; Trusted Types forbid every HTML string sink, so it builds
 * DOM nodes only). Pages work without it; it adds the live sessions table
 * (an EventSource on the console's SSE route) and revokes from that table
 * without leaving the page.
 */
export const CONSOLE_JS = `
'use strict';
(function () {
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute('content') : '';
  var section = document.getElementById('live-sessions');
  if (!section) return;
  var tbody = section.querySelector('tbody');
  var status = document.getElementById('live-status');
  var nodes = document.getElementById('live-nodes');
  var empty = document.getElementById('live-empty');
  var broker = section.getAttribute('data-broker');
  var here = section.getAttribute('data-return');

  function time(seconds) {
    return seconds == null ? 'never' : new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }
  function cell(label, content) { return el('td', { 'data-label': label }, [content]); }
  function code(text) { return el('code', {}, [text]); }
  function say(text, state) {
    status.textContent = text;
    if (state) status.setAttribute('data-state', state);
  }

  function revokeForm(s) {
    var form = el('form', { method: 'post', action: '/console/brokers/' + encodeURIComponent(broker) + '/revoke', class: 'inline js-revoke' }, [
      el('input', { type: 'hidden', name: 'csrf', value: csrf }),
      el('input', { type: 'hidden', name: 'jti', value: s.jti }),
      el('input', { type: 'hidden', name: 'return', value: here }),
      el('button', { type: 'submit', class: 'danger', 'aria-label': 'Revoke ' + s.clientId + ' (jti ' + s.jti + ')' }, ['Revoke']),
    ]);
    return form;
  }

  function row(s) {
    var tr = el('tr', { 'data-jti': s.jti, 'data-client-id': s.clientId }, [
      cell('Client id', code(s.clientId)),
      cell('Username', s.username == null ? '' : s.username),
      cell('jti', code(s.jti)),
      cell('Connected since', time(s.connectedAt)),
      cell('Token expires', time(s.expiresAt)),
      cell('Address', s.remoteAddress == null ? '' : s.remoteAddress),
      cell('Node', code(s.node)),
      cell('Action', revokeForm(s)),
    ]);
    return tr;
  }

  function render(view) {
    var focused = document.activeElement;
    var focusedRow = focused && focused.closest ? focused.closest('tr') : null;
    var focusedJti = focusedRow ? focusedRow.getAttribute('data-jti') : null;
    var rows = view.sessions.map(row);
    tbody.replaceChildren.apply(tbody, rows);
    empty.hidden = rows.length > 0;
    nodes.textContent = view.nodes.length === 0 ? 'No broker node is reporting.' : view.nodes.map(function (n) {
      return n.node + ': ' + n.sessions + ' session' + (n.sessions === 1 ? '' : 's') + ', last report ' + time(n.reportedAt);
    }).join('; ') + (view.truncated ? ' (showing the newest ' + view.sessions.length + ')' : '');
    say('Live: ' + view.sessions.length + ' session' + (view.sessions.length === 1 ? '' : 's') + ', updated ' + time(Math.floor(Date.now() / 1000)), 'live');
    // Keep the keyboard where it was: on the same row's button, or (its row gone) on the next one.
    if (focusedJti !== null) {
      var same = tbody.querySelector('tr[data-jti="' + CSS.escape(focusedJti) + '"] button');
      var next = same || tbody.querySelector('button');
      (next || section.querySelector('h2')).focus();
    }
  }

  var source = new EventSource(section.getAttribute('data-events'));
  source.addEventListener('sessions', function (e) { render(JSON.parse(e.data)); });
  source.addEventListener('error', function () { say('Reconnecting to the live feed...', 'down'); });

  section.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains('js-revoke')) return;
    e.preventDefault();
    var button = form.querySelector('button');
    // aria-disabled, not disabled: a disabled button drops the keyboard focus.
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    button.textContent = 'Revoking...';
    var tr = form.closest('tr');
    fetch(form.action, {
      method: 'POST', credentials: 'same-origin',
      headers: { accept: 'application/json', 'x-csrf-token': csrf, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(new FormData(form)).toString(),
    }).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(body.error_description || ('HTTP ' + res.status));
        if (tr) tr.classList.add('leaving');
        say('Revoked ' + (tr ? tr.getAttribute('data-client-id') : '') + ': waiting for its broker to close the session...', 'live');
      });
    }).catch(function (err) {
      button.removeAttribute('aria-disabled');
      button.textContent = 'Revoke';
      say('Revoking failed: ' + err.message, 'down');
    });
  });
})();
`.trim()
