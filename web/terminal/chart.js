// The price chart (lightweight-charts): candles of the local trades, lines for the index, the
// on-chain pool price and the mark, and the halt / cool-down / auction periods shaded behind them.
// Plus the depth chart, drawn on a canvas from the book.
import { createChart, AreaSeries, CandlestickSeries, LineSeries, ColorType } from "lightweight-charts";

const SHADE = { halted: "rgba(220, 38, 38, 0.20)", cooldown: "rgba(234, 179, 8, 0.22)", auction: "rgba(59, 130, 246, 0.22)" };

export class PriceChart {
  constructor(el) {
    this.el = el;
    this.chart = createChart(el, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: "#0f1420" }, textColor: "#c9d1e0" },
      grid: { vertLines: { color: "#1c2333" }, horzLines: { color: "#1c2333" } },
      timeScale: { timeVisible: true, secondsVisible: true },
      rightPriceScale: { borderColor: "#2a3347" },
    });
    // the stopped periods: one area per state on a hidden 0..1 scale, drawn behind the candles
    this.shades = {};
    for (const [state, color] of Object.entries(SHADE)) {
      this.shades[state] = this.chart.addSeries(AreaSeries, {
        priceScaleId: "shade",
        topColor: color,
        bottomColor: color,
        lineColor: "rgba(0,0,0,0)",
        lineWidth: 1,
        priceLineVisible: false,
        lastValueVisible: false,
        crosshairMarkerVisible: false,
        autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 1 } }),
      });
    }
    this.chart.priceScale("shade").applyOptions({ scaleMargins: { top: 0, bottom: 0 }, visible: false });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: "#16a34a",
      downColor: "#dc2626",
      wickUpColor: "#16a34a",
      wickDownColor: "#dc2626",
      borderVisible: false,
      priceFormat: { type: "price", precision: 4, minMove: 0.0001 },
    });
    const line = (color, title) =>
      this.chart.addSeries(LineSeries, {
        color,
        lineWidth: 2,
        title,
        lineType: 1, // steps: each value holds until the next
        priceLineVisible: false,
        crosshairMarkerVisible: false,
        priceFormat: { type: "price", precision: 4, minMove: 0.0001 },
      });
    this.index = line("#a78bfa", "index");
    this.pool = line("#22d3ee", "pool");
    this.mark = line("#f59e0b", "mark");
    this.count = 0;
  }

  setPrecision(tick) {
    const precision = Math.max(0, (String(tick).split(".")[1] || "").length);
    const fmt = { type: "price", precision, minMove: Number(tick) };
    for (const s of [this.candles, this.index, this.pool, this.mark]) s.applyOptions({ priceFormat: fmt });
  }

  // doc: /candles, ov: /overlays, now: ms
  render(doc, ov, now) {
    const step = doc.interval_ms;
    const candles = doc.candles.map((c) => ({
      time: Math.floor(c.t / 1000),
      open: Number(c.open),
      high: Number(c.high),
      low: Number(c.low),
      close: Number(c.close),
    }));
    this.candles.setData(candles);
    this.count = candles.length;
    const end = now + step;
    const series = (points) => {
      const bySecond = new Map();
      for (const [t, p] of points) bySecond.set(Math.floor(t / 1000), Number(p));
      if (points.length) bySecond.set(Math.floor(end / 1000), Number(points[points.length - 1][1]));
      return [...bySecond.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
    };
    const lines = [series(ov.index), series(ov.pool), series(ov.mark)];
    this.index.setData(lines[0]);
    this.pool.setData(lines[1]);
    this.mark.setData(lines[2]);
    // each stopped period: its area covers every point the chart has inside it (candles, the lines'
    // steps, one per interval), and nothing elsewhere (whitespace breaks the area)
    const times = new Set([...candles.map((c) => c.time), ...lines.flat().map((p) => p.time)]);
    for (const p of ov.periods) {
      const from = p.start - (p.start % step);
      const until = p.end === null ? end : p.end;
      for (let t = from; t <= until && times.size < 20000; t += step) times.add(Math.floor(t / 1000));
      times.add(Math.floor(p.start / 1000));
      times.add(Math.floor(until / 1000));
    }
    const sorted = [...times].sort((a, b) => a - b);
    for (const [state, series] of Object.entries(this.shades)) {
      const mine = ov.periods.filter((p) => p.state === state);
      series.setData(
        mine.length
          ? sorted.map((t) =>
              mine.some((p) => t * 1000 >= p.start - (p.start % step) && t * 1000 <= (p.end === null ? end : p.end))
                ? { time: t, value: 1 }
                : { time: t },
            )
          : [],
      );
    }
    this.periods = ov.periods;
    const key = `${doc.symbol}/${doc.interval}/${candles.length}/${ov.periods.length}`;
    if (key !== this.fitted) {
      this.fitted = key; // fit what there is once per change, then leave the user's zoom alone
      this.chart.timeScale().fitContent();
    }
  }

  update(trade, step) {
    // a trade from the stream: extend or open the last candle
    const t = Math.floor((trade.ts - (trade.ts % step)) / 1000);
    const p = Number(trade.price);
    const data = this.candles.data();
    const last = data.length ? data[data.length - 1] : null;
    if (last && last.time === t) {
      this.candles.update({ time: t, open: last.open, high: Math.max(last.high, p), low: Math.min(last.low, p), close: p });
    } else if (!last || last.time < t) {
      this.candles.update({ time: t, open: p, high: p, low: p, close: p });
      this.count += 1;
    }
  }
}

// The depth chart: cumulative quantity on each side of the book, and the indicative uncross price.
export function drawDepth(canvas, bids, asks, indicative) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width;
  const h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = "#0f1420";
  ctx.fillRect(0, 0, w, h);
  const b = bids.map(([p, q]) => [Number(p), Number(q)]);
  const a = asks.map(([p, q]) => [Number(p), Number(q)]);
  if (!b.length && !a.length) {
    ctx.fillStyle = "#7a8599";
    ctx.font = "12px sans-serif";
    ctx.fillText("both sides of the book are empty", 10, h / 2);
    return;
  }
  const cum = (levels) => {
    let s = 0;
    return levels.map(([p, q]) => [p, (s += q)]);
  };
  const cb = cum(b);
  const ca = cum(a);
  const prices = [...cb, ...ca].map((x) => x[0]);
  if (indicative) prices.push(Number(indicative.price));
  let lo = Math.min(...prices);
  let hi = Math.max(...prices);
  if (hi === lo) {
    hi += 0.001;
    lo -= 0.001;
  }
  const maxQ = Math.max(1, ...cb.map((x) => x[1]), ...ca.map((x) => x[1]));
  const X = (p) => 4 + ((p - lo) / (hi - lo)) * (w - 8);
  const Y = (q) => h - 14 - (q / maxQ) * (h - 24);
  const side = (levels, stroke, fill) => {
    if (!levels.length) return;
    ctx.beginPath();
    ctx.moveTo(X(levels[0][0]), Y(0));
    for (const [p, q] of levels) ctx.lineTo(X(p), Y(q));
    ctx.lineTo(X(levels[levels.length - 1][0]), Y(0));
    ctx.closePath();
    ctx.fillStyle = fill;
    ctx.fill();
    ctx.strokeStyle = stroke;
    ctx.stroke();
  };
  side(cb, "#16a34a", "rgba(22,163,74,0.25)");
  side(ca, "#dc2626", "rgba(220,38,38,0.25)");
  ctx.fillStyle = "#7a8599";
  ctx.font = "10px sans-serif";
  ctx.fillText(lo.toFixed(4), 4, h - 2);
  ctx.fillText(hi.toFixed(4), w - 44, h - 2);
  if (indicative && indicative.price) {
    const x = X(Number(indicative.price));
    ctx.strokeStyle = "#3b82f6";
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x, 0);
    ctx.lineTo(x, h - 12);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#93c5fd";
    ctx.fillText(`uncross ${indicative.price}`, Math.min(x + 3, w - 90), 12);
  }
}
