// The sample page. Every URL is relative to the page, so that it works at / and under a context path (a WAR).
'use strict';
const $ = id => document.getElementById(id);
const escape = s => String(s).replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const post = (url, body, type) => fetch(url, { method: 'POST', body,
  headers: type ? { 'Content-Type': type } : {} });

// ---- Live figures: a stream of their own, one event a second.
const history = []; // {streams, threads}, one per second, the last 60
const status = new EventSource('api/status/stream');
status.addEventListener('status', e => {
  const s = JSON.parse(e.data);
  $('fig-streams').textContent = s.openStreams.toLocaleString();
  $('fig-threads').textContent = `${s.requestThreadsBusy} (${s.requestThreadsPeak} / ${s.requestThreadsMax})`;
  $('fig-rate').textContent = s.eventsPerSecond.toLocaleString();
  $('fig-jvm').textContent = s.liveThreads;
  $('fig-heap').textContent = s.heapUsedMb + ' MB';
  $('status').textContent = `open streams ${s.openStreams} \u00b7 request threads in the app ${s.requestThreadsBusy}`
    + (s.cluster ? ` \u00b7 instance :${s.port}, cluster ${s.cluster}` : '');
  $('status').dataset.updates = (+($('status').dataset.updates || 0) + 1).toString(); // for tests: a new second
  history.push({ streams: s.openStreams, threads: s.requestThreadsPeak });
  if (history.length > 60) history.shift();
  drawChart();
});
status.onopen = () => { $('connection').textContent = 'live'; $('connection').className = 'live'; };
status.onerror = () => { $('connection').textContent = 'reconnecting\u2026'; $('connection').className = 'down'; };

function drawChart() {
  const canvas = $('chart'), ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = w * ratio; canvas.height = h * ratio;
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  g.clearRect(0, 0, w, h);
  const top = Math.max(10, ...history.map(p => Math.max(p.streams, p.threads)));
  const x = i => w - (history.length - 1 - i) * (w / 59), y = v => h - 6 - (h - 16) * v / top;
  g.strokeStyle = '#e4e7ec'; g.fillStyle = '#667085'; g.font = '11px system-ui'; g.lineWidth = 1;
  g.beginPath(); g.moveTo(0, y(top)); g.lineTo(w, y(top)); g.stroke();
  g.fillText(top.toLocaleString(), 2, y(top) + 12);
  for (const [key, colour] of [['streams', '#3559e0'], ['threads', '#c2410c']]) {
    g.strokeStyle = colour; g.lineWidth = 2; g.beginPath();
    history.forEach((p, i) => (i ? g.lineTo(x(i), y(p[key])) : g.moveTo(x(i), y(p[key]))));
    g.stroke();
  }
}
window.addEventListener('resize', drawChart);

// ---- Task progress: one EventSource per task; the stream completes at 100%.
$('start').onclick = async () => {
  const { id } = await (await post('api/tasks')).json();
  const tasks = $('tasks');
  tasks.querySelector('.empty')?.remove();
  const row = document.createElement('div');
  row.className = 'task';
  row.innerHTML = `<span class="name">task ${id}</span><div class="bar"><div></div></div>`
    + `<progress max="100" value="0" data-task="${id}" hidden></progress><span class="pct">0%</span>`;
  tasks.append(row);
  const bar = row.querySelector('.bar'), progress = row.querySelector('progress'), pct = row.querySelector('.pct');
  const show = p => { progress.value = p; bar.firstElementChild.style.width = p + '%'; pct.textContent = p + '%'; };
  const source = new EventSource(`api/tasks/${id}/progress`);
  source.addEventListener('progress', e => show(JSON.parse(e.data).percent));
  source.addEventListener('done', () => { show(100); bar.classList.add('done'); pct.textContent = 'done'; source.close(); });
};

// ---- Upload: follow the server's progress topic, then send the file.
$('upload').onclick = () => {
  const file = $('file').files[0];
  if (!file) { $('uptext').textContent = 'Pick a file first.'; return; }
  const id = Math.random().toString(36).slice(2, 10);
  const bar = $('upbar');
  bar.classList.remove('done');
  const source = new EventSource(`api/uploads/${id}/progress`);
  const show = e => {
    const p = JSON.parse(e.data), pct = file.size ? Math.round(100 * p.received / file.size) : 100;
    bar.firstElementChild.style.width = pct + '%';
    $('uppct').textContent = pct + '%';
    $('uptext').textContent = `${p.received.toLocaleString()} of ${file.size.toLocaleString()} bytes received by the server`
      + (p.done ? ', done' : '');
  };
  source.addEventListener('progress', show);
  source.addEventListener('done', e => { show(e); bar.classList.add('done'); source.close(); });
  source.onopen = () => fetch(`api/uploads/${id}`, { method: 'POST', body: file });
};

// ---- Proxy: the backend's ticks, relayed one by one.
const ticks = $('ticks');
for (let i = 1; i <= 10; i++) ticks.insertAdjacentHTML('beforeend', `<span>${i}</span>`);
$('proxy').onclick = () => {
  const cells = [...ticks.children];
  cells.forEach(c => c.classList.remove('on'));
  $('proxy').disabled = true;
  const started = performance.now();
  const source = new EventSource('api/proxied/ticks');
  source.addEventListener('tick', e => {
    const n = parseInt(e.data.split(' ')[1], 10);
    cells[n - 1].classList.add('on');
    cells[n - 1].title = e.data;
    $('proxynote').textContent = `${e.data} after ${Math.round(performance.now() - started)} ms`;
    if (n === 10) { source.close(); $('proxy').disabled = false; }
  });
  source.onerror = () => { source.close(); $('proxy').disabled = false; };
};

// ---- Stress: the server opens streams to itself; the figures above show what they cost.
$('stress').onclick = async () => {
  $('stress').disabled = true;
  $('stressnote').textContent = 'Opening 300 streams\u2026';
  const r = await post('api/stress?streams=300');
  const s = await r.json();
  if (!r.ok) { $('stressnote').textContent = s.error; $('stress').disabled = false; return; }
  $('unstress').disabled = false;
  $('stressnote').textContent = `${s.opened} streams opened in ${s.millis} ms, ticked 5 times a second for ${s.seconds} s.`;
  setTimeout(() => { $('stress').disabled = false; $('unstress').disabled = true; }, s.seconds * 1000);
};
$('unstress').onclick = async () => {
  const s = await (await fetch('api/stress', { method: 'DELETE' })).json();
  $('stressnote').textContent = `Stopped: ${s.closed} streams closed; they had received ${s.eventsReceived.toLocaleString()} events.`;
  $('stress').disabled = false; $('unstress').disabled = true;
};

// ---- Chat: one stream for the topic; after a drop the browser reconnects with Last-Event-ID and catches up.
const log = $('log');
function append(node) {
  log.querySelector('.hint')?.remove();
  log.append(node);
  log.scrollTop = log.scrollHeight;
}
function marker(text) {
  const div = document.createElement('div');
  div.className = 'marker';
  div.textContent = text;
  append(div);
}
let dropped = false;
const chat = new EventSource('api/chat/events');
chat.addEventListener('message', e => {
  const m = JSON.parse(e.data), div = document.createElement('div');
  div.className = 'msg';
  const time = m.at ? new Date(m.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
  div.innerHTML = `<span class="name">${escape(m.name)}</span><span class="text">${escape(m.text)}</span>`
    + `<span class="time">${time}</span>`;
  append(div);
});
chat.addEventListener('reset', () => marker('History was lost while away (the server restarted): showing new messages only.'));
chat.onerror = () => { dropped = true; };
chat.onopen = () => { if (dropped) { marker('Reconnected, caught up.'); dropped = false; } };
$('chat').onsubmit = async e => {
  e.preventDefault();
  const form = e.target;
  await post('api/chat', JSON.stringify({ name: form.name.value, text: form.text.value }), 'application/json');
  form.text.value = '';
};
