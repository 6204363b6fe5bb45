/**
 * The phone page of a page (GET /page/<token>) and its script (GET /page-assets/page.js), kept
 * as text here so the bundled server carries them. No inline script: the CSP allows scripts from
 * our own files only. The token in the URL is the credential; no sign-in.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Pumpwatch page</title>
<style>
  body { font: 18px/1.4 system-ui, sans-serif; margin: 0; padding: 16px; background: #f4f5f7; color: #111; }
  main { max-width: 480px; margin: 0 auto; background: #fff; border-radius: 12px; padding: 20px; box-shadow: 0 1px 4px #0002; }
  h1 { font-size: 20px; margin: 0 0 12px; }
  .sev-high { color: #b00020; } .sev-medium { color: #a05a00; }
  dl { margin: 0 0 16px; } dt { font-size: 13px; color: #555; margin-top: 8px; } dd { margin: 0; font-weight: 600; }
  button { display: block; width: 100%; font-size: 20px; padding: 16px; margin: 10px 0; border: 0; border-radius: 10px; }
  #accept { background: #0a7d32; color: #fff; } #decline { background: #e3e5e8; color: #111; }
  #state { font-weight: 600; margin: 12px 0; } .error { color: #b00020; }
</style>
</head>
<body>
<main>
  <h1 id="title">Loading page…</h1>
  <dl id="facts" hidden>
    <dt>Patient</dt><dd id="patient"></dd>
    <dt>Pump</dt><dd id="pump"></dd>
    <dt>Alert</dt><dd id="message"></dd>
    <dt>Raised</dt><dd id="raised"></dd>
  </dl>
  <p id="state" role="status"></p>
  <div id="actions" hidden>
    <button id="accept" type="button">Accept: I take it</button>
    <button id="decline" type="button">Decline: page the next person</button>
  </div>
  <p><small>Acknowledging the alert still needs your sign-in on the board.</small></p>
</main>
<script src="/page-assets/page.js"></script>
</body>
</html>
`;

export const PAGE_JS = `// The phone page of a page (GET /page/<token>): shows the alert and answers with the token, which
// is the only credential (no sign-in). Served as a file: the CSP allows no inline script.
(function () {
  'use strict';
  var token = location.pathname.split('/').pop();
  var $ = function (id) { return document.getElementById(id); };
  var api = '/api/pages/' + encodeURIComponent(token);
  var STATE = {
    sent: 'Waiting for your answer.', accepted: 'You accepted this alert.', declined: 'You declined; the next person is paged.',
    expired: 'This page is no longer open.', failed: 'This page could not be delivered.',
  };
  function show(v) {
    $('title').textContent = v.alert.message;
    $('title').className = 'sev-' + v.alert.severity;
    $('patient').textContent = v.patient ? v.patient.name + ' (MRN ' + v.patient.mrn + ')' + (v.patient.phone ? ', tel. ' + v.patient.phone : '') : 'no patient assigned';
    $('pump').textContent = v.alert.pump;
    $('message').textContent = v.alert.message + ' (' + v.alert.severity + ')';
    $('raised').textContent = new Date(v.alert.raisedAt).toLocaleString();
    $('facts').hidden = false;
    var text = v.expired && v.status === 'sent' ? STATE.expired : (STATE[v.status] || v.status);
    if (v.acceptedBy && v.status !== 'accepted') text += ' Accepted by ' + v.acceptedBy + '.';
    $('state').textContent = text;
    $('state').className = '';
    $('actions').hidden = v.expired || v.status !== 'sent' || !!v.acceptedBy;
  }
  function fail(msg) {
    $('state').textContent = msg;
    $('state').className = 'error';
  }
  function load() {
    fetch(api, { headers: { accept: 'application/json' } }).then(function (r) {
      if (r.status === 404) { $('title').textContent = 'Unknown page'; return null; }
      return r.json();
    }).then(function (v) { if (v) show(v); }).catch(function () { fail('The server cannot be reached. Try again.'); });
  }
  function answer(what) {
    $('actions').hidden = true;
    fetch(api + '/' + what, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then(function (r) {
      return r.json().then(function (b) {
        if (b && b.alert) show(b);
        if (!r.ok) fail(b && b.message ? b.message : 'Not done (' + r.status + ').');
      });
    }).catch(function () { $('actions').hidden = false; fail('The server cannot be reached. Try again.'); });
  }
  $('accept').addEventListener('click', function () { answer('accept'); });
  $('decline').addEventListener('click', function () { answer('decline'); });
  load();
})();
`;
