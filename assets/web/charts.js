// Charts of the public pages, drawn with Observable Plot from the table next to each chart:
// the chart shows exactly the numbers of the table. Suppressed and missing values are left out
// of the chart (the table marks them). Loaded with `defer`, after d3 and Plot.
(function () {
  'use strict';
  const lang = document.documentElement.lang === 'en' ? 'en-GB' : 'nl-NL';
  const fmt = (v) => v.toLocaleString(lang, { maximumFractionDigits: 2 });

  function rows(table) {
    return Array.from(table.querySelectorAll('tbody tr[data-key]')).map((tr) => ({
      key: tr.dataset.key,
      label: tr.querySelector('th').textContent.trim(),
      value: tr.dataset.value === '' ? null : Number(tr.dataset.value),
      status: tr.dataset.status,
    }));
  }

  function line(data, unit) {
    const shown = data.filter((d) => d.value !== null).map((d) => ({ year: Number(d.key), value: d.value }));
    return Plot.plot({
      width: 560, height: 280, marginLeft: 60,
      x: { label: null, tickFormat: 'd', ticks: shown.length > 8 ? 8 : shown.length },
      y: { label: unit, grid: true, zero: true, tickFormat: fmt },
      marks: [
        Plot.lineY(shown, { x: 'year', y: 'value', stroke: '#0b4f8a', strokeWidth: 2 }),
        Plot.dot(shown, { x: 'year', y: 'value', fill: '#0b4f8a', title: (d) => `${d.year}: ${fmt(d.value)}` }),
      ],
    });
  }

  // A sparkline: the line alone, small, next to its table of the same years.
  function spark(data) {
    const shown = data.filter((d) => d.value !== null).map((d) => ({ year: Number(d.key), value: d.value }));
    return Plot.plot({
      width: 160, height: 48, margin: 4, axis: null,
      x: { type: 'linear' }, y: { zero: false },
      marks: [
        Plot.lineY(shown, { x: 'year', y: 'value', stroke: '#0b4f8a', strokeWidth: 2 }),
        Plot.dot(shown.slice(-1), { x: 'year', y: 'value', fill: '#0b4f8a', r: 3 }),
      ],
    });
  }

  function bar(data, unit) {
    const shown = data.filter((d) => d.value !== null);
    return Plot.plot({
      width: 560, height: Math.max(120, 28 * data.length + 40), marginLeft: 200,
      x: { label: unit, grid: true, tickFormat: fmt },
      y: { label: null, domain: data.map((d) => d.label) },
      marks: [
        Plot.barX(shown, { x: 'value', y: 'label', fill: '#0b4f8a', title: (d) => `${d.label}: ${fmt(d.value)}` }),
        Plot.ruleX([0]),
      ],
    });
  }

  for (const figure of document.querySelectorAll('figure[data-chart]')) {
    const table = document.getElementById(figure.dataset.table);
    const target = figure.querySelector('.chart');
    if (!table || !target) continue;
    const data = rows(table);
    const unit = target.dataset.unit || null;
    const kind = figure.dataset.chart;
    const svg = kind === 'line' ? line(data, unit) : kind === 'spark' ? spark(data) : bar(data, unit);
    svg.setAttribute('aria-hidden', 'true');
    target.appendChild(svg);
  }
})();
