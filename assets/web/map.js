// The choropleth of /kaart: the municipalities coloured by the values in the table on the page
// (joined on the CBS code), suppressed municipalities hatched grey, those without figures white.
// Loaded with `defer`, after d3, Plot and topojson-client.
(function () {
  'use strict';
  const el = document.getElementById('map');
  if (!el) return;
  const lang = document.documentElement.lang === 'en' ? 'en-GB' : 'nl-NL';
  const fmt = (v) => v.toLocaleString(lang, { maximumFractionDigits: 2 });
  const table = document.getElementById(el.dataset.table);
  const byCode = new Map();
  for (const tr of table.querySelectorAll('tbody tr[data-key]')) {
    byCode.set(tr.dataset.key, {
      name: tr.querySelector('th').textContent.trim(),
      value: tr.dataset.value === '' ? null : Number(tr.dataset.value),
      status: tr.dataset.status,
      shown: tr.querySelector('td').textContent.trim(),
    });
  }
  fetch(el.dataset.topojson)
    .then((r) => r.json())
    .then((topo) => {
      const object = topo.objects.gemeente_2024;
      const all = topojson.feature(topo, object);
      const info = (f) => byCode.get(f.properties.statcode) || { name: f.properties.statnaam, value: null, status: 'missing', shown: '–' };
      const title = (f) => `${info(f).name}: ${info(f).shown}`;
      const withStatus = (s) => all.features.filter((f) => info(f).status === s);
      const shown = withStatus('shown');
      const plot = Plot.plot({
        width: 640, height: 720,
        projection: { type: 'mercator', domain: all },
        color: { type: 'quantize', n: 5, scheme: 'blues', legend: true, label: el.dataset.unit, tickFormat: fmt },
        marks: [
          Plot.geo(withStatus('missing'), { fill: '#ffffff', stroke: '#9a9a9a', strokeWidth: 0.5, title }),
          Plot.geo(withStatus('suppressed'), { fill: '#b0b0b0', stroke: '#6e6e6e', strokeWidth: 0.5, title }),
          Plot.geo(shown, { fill: (f) => info(f).value, stroke: '#ffffff', strokeWidth: 0.3, title }),
          Plot.geo(topojson.mesh(topo, object, (a, b) => a === b), { stroke: '#666', strokeWidth: 0.5 }),
        ],
      });
      plot.setAttribute('aria-hidden', 'true');
      el.appendChild(plot);
    })
    .catch((e) => console.error('map:', e));
})();
