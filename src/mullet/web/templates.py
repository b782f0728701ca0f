"""HTML templates of the dashboard (Jinja2, autoescaped)."""

from __future__ import annotations

BASE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{ title }} · mullet</title><link rel="icon" href="data:,">
<script src="{{ prefix }}/static/plotly.min.js"></script>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#222}
nav{background:#222;padding:8px 16px}nav a{color:#fff;margin-right:16px;text-decoration:none}
main{max-width:1150px;margin:16px auto;padding:0 16px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{text-align:left;background:#f5f5f5}
.error{color:#b00020;font-size:0.9em;margin-left:6px}.field{margin:6px 0}.field label{display:inline-block;width:240px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}.note{color:#555;font-size:0.9em}
button{padding:6px 14px}
</style></head>
<body><nav><a href="{{ prefix }}/">Runs</a><a href="{{ prefix }}/new">New run</a><a href="{{ prefix }}/compare">Compare</a><a href="{{ prefix }}/industry">Industry</a><a href="{{ prefix }}/docs">API</a></nav>
<main><h1>{{ title }}</h1>{% block body %}{% endblock %}</main></body></html>"""

RUNS = """{% extends "base.html" %}{% block body %}
<p>Runs in <code>{{ db }}</code>, newest first. <a href="{{ prefix }}/new">Start a new run</a>.</p>
<table><tr><th>run</th><th>kind</th><th>status</th><th>started (UTC)</th><th>scenario</th></tr>
{% for r in runs %}<tr><td><a href="{{ prefix }}/runs/{{ r.run_id }}">{{ r.run_id }}</a></td><td>{{ r.kind }}</td><td>{{ r.status }}</td><td>{{ r.started_utc }}</td><td>{{ r.scenario_file }}</td></tr>{% endfor %}
</table>{% if not runs %}<p>No runs yet.</p>{% endif %}{% endblock %}"""

RUN = """{% extends "base.html" %}{% block body %}
<table>{% for k, v in facts.items() %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
{% for heading, fig in figures %}<h2>{{ heading }}</h2>{{ fig | safe }}{% endfor %}
<p><a href="{{ prefix }}/api/runs/{{ run_id }}/report">Download the self-contained HTML report</a></p>{% endblock %}"""

COMPARE = """{% extends "base.html" %}{% block body %}
<form method="get" action="{{ prefix }}/compare">
<label>run A <select name="a">{% for r in runs %}<option value="{{ r.run_id }}" {% if r.run_id == a %}selected{% endif %}>{{ r.run_id }} ({{ r.kind }}, {{ r.scenario_file }})</option>{% endfor %}</select></label>
<label>run B <select name="b">{% for r in runs %}<option value="{{ r.run_id }}" {% if r.run_id == b %}selected{% endif %}>{{ r.run_id }} ({{ r.kind }}, {{ r.scenario_file }})</option>{% endfor %}</select></label>
<button type="submit">Compare</button></form>
{% if rows %}<table><tr><th>line</th><th>{{ a }}</th><th>{{ b }}</th><th>B - A</th></tr>
{% for name, va, vb, d in rows %}<tr><th>{{ name }}</th><td>{{ va }}</td><td>{{ vb }}</td><td>{{ d }}</td></tr>{% endfor %}</table>{% endif %}
{% if error %}<p class="error">{{ error }}</p>{% endif %}{% endblock %}"""

NEW = """{% extends "base.html" %}{% block body %}
<p class="note">Edit the key numbers of a bundled scenario and dispatch it on the bundled ERCOT data. Long runs go to the background.</p>
<form method="post" action="{{ prefix }}/new" id="run-form">
{% for f in fields %}<div class="field"><label for="{{ f.name }}">{{ f.label }}</label>
{% if f.choices %}<select id="{{ f.name }}" name="{{ f.name }}">{% for c in f.choices %}<option value="{{ c }}" {% if c|string == values[f.name]|string %}selected{% endif %}>{{ c }}</option>{% endfor %}</select>
{% else %}<input id="{{ f.name }}" name="{{ f.name }}" value="{{ values[f.name] }}">{% endif %}
{% if errors.get(f.name) %}<span class="error" id="error-{{ f.name }}">{{ errors[f.name] }}</span>{% endif %}</div>{% endfor %}
{% if errors.get("form") %}<p class="error" id="error-form">{{ errors["form"] }}</p>{% endif %}
<button type="submit" id="run-button">Run</button></form>{% endblock %}"""

JOB = """{% extends "base.html" %}{% block body %}
<p id="status">status: {{ job.status }}</p><progress id="bar" max="1" value="{{ job.progress }}"></progress>
<p class="error" id="job-error">{{ job.error or "" }}</p>
<script>
async function poll(){const r=await fetch("{{ prefix }}/api/jobs/{{ job_id }}");const j=await r.json();
document.getElementById("status").textContent="status: "+j.status;document.getElementById("bar").value=j.progress;
if(j.status==="done"){window.location="{{ prefix }}/runs/"+j.run_id;return}
if(j.status==="failed"){document.getElementById("job-error").textContent=j.error;return}
setTimeout(poll,500)}
poll();
</script>{% endblock %}"""

INDUSTRY = """{% extends "base.html" %}{% block body %}
<p class="note">Facts bundled with mullet, each with its source. See <code>mullet industry --facts</code> to add your own.</p>
{{ table | safe }}{{ chart | safe }}{{ deals | safe }}{% endblock %}"""

TEMPLATES = {"base.html": BASE, "runs.html": RUNS, "run.html": RUN, "compare.html": COMPARE, "new.html": NEW, "job.html": JOB, "industry.html": INDUSTRY}
