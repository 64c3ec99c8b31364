"""The bare stack: plain Flask rendering a Jinja template of the same 50 rows as the
client list, with no database, no session and no layout (performance.md)."""
from flask import Flask

app = Flask(__name__)

ROWS = [{"name": f"Cliente {i:05d}", "company": "Comercial Soto" if i % 3 else "", "tier": "Cliente frecuente",
         "seller": "Valentina Silva", "last_sale": "12 oct 2026", "revenue": f"${(i * 7919) % 900000:,}"}
        for i in range(50)]

TABLE = """<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Clientes</title></head><body>
<table><thead><tr><th>Nombre</th><th>Tier</th><th>Vendedor</th><th>Última venta</th><th>Ventas 12 meses</th></tr></thead>
<tbody>{% for r in rows %}<tr><td><a href="/clients/{{ loop.index }}">{{ r.name }}</a>{% if r.company %}<br><small>{{ r.company }}</small>{% endif %}</td>
<td><span class="badge">{{ r.tier }}</span></td><td>{{ r.seller }}</td><td>{{ r.last_sale }}</td><td>{{ r.revenue }}</td></tr>{% endfor %}
</tbody></table></body></html>"""


@app.get("/hello")
def hello():
    return "hello"


TEMPLATE = app.jinja_env.from_string(TABLE)  # compiled once, as Flask does for template files


@app.get("/rows")
def rows():
    return TEMPLATE.render(rows=ROWS)
