// The mood journal: readings grouped by day (the person's own time zone), and a chart of the last
// seven days drawn here as SVG, with the same numbers in a table for screen readers.

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

// The date ``back`` local days before ``today`` (calendar days: daylight-saving safe).
function daysBefore(today, back) {
  const date = new Date(today.getTime());
  date.setDate(date.getDate() - back);
  return date;
}

// One colour per emotion, told apart by hue and lightness; the legend and table carry the names.
const COLOURS = {
  Angry: "#d1495b", Disgust: "#6a994e", Fear: "#7b61c9", Happy: "#e8a13a",
  Neutral: "#8a8fa3", Sad: "#2f6fb3", Surprise: "#1aa3a3",
};

// The emotion an entry counts for: the one the person said, else the one read; null without one.
export function moodOf(entry) {
  if (entry.status !== "done") return null;
  return entry.said_emotion || entry.primary_emotion || null;
}

// "2026-12-06" for a date in local time: the day a reading belongs to.
export function dayKey(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function dayLabel(date, today = new Date()) {
  const key = dayKey(date);
  if (key === dayKey(today)) return "Today";
  if (key === dayKey(daysBefore(today, 1))) return "Yesterday";
  return date.toLocaleDateString(undefined, { weekday: "long", day: "numeric", month: "long" });
}

// Entries grouped by local day, newest day first: [{ key, label, entries }].
export function byDay(entries) {
  const days = new Map();
  for (const entry of entries) {
    const date = new Date(entry.created_at);
    if (Number.isNaN(date.getTime())) continue;
    const key = dayKey(date);
    if (!days.has(key)) days.set(key, { key, label: dayLabel(date), entries: [] });
    days.get(key).entries.push(entry);
  }
  return [...days.values()].sort((a, b) => (a.key < b.key ? 1 : -1));
}

// The last seven days, oldest first, each with its count per emotion.
export function week(entries, emotions, today = new Date()) {
  const days = [];
  for (let back = 6; back >= 0; back--) {
    const date = daysBefore(today, back);
    days.push({ key: dayKey(date), short: date.toLocaleDateString(undefined, { weekday: "short" }),
      label: dayLabel(date, today), counts: Object.fromEntries(emotions.map((e) => [e, 0])) });
  }
  const index = new Map(days.map((day) => [day.key, day]));
  for (const entry of entries) {
    const mood = moodOf(entry);
    const day = index.get(dayKey(new Date(entry.created_at)));
    if (mood && day && mood in day.counts) day.counts[mood] += 1;
  }
  return days;
}

function svg(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

// Stacked bars, one per day; the table below says the same in words.
function drawChart(days, emotions) {
  const width = 320;
  const height = 140;
  const top = 16;
  const base = height - 22;
  const most = Math.max(1, ...days.map((day) => Object.values(day.counts).reduce((a, b) => a + b, 0)));
  const step = width / days.length;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "week-svg", "aria-hidden": "true", focusable: "false" });
  chart.append(svg("line", { x1: 0, x2: width, y1: base + 0.5, y2: base + 0.5, class: "week-axis" }));
  days.forEach((day, i) => {
    let y = base;
    for (const emotion of emotions) {
      const count = day.counts[emotion];
      if (!count) continue;
      const h = ((base - top) * count) / most;
      y -= h;
      chart.append(svg("rect", { x: i * step + step * 0.2, y, width: step * 0.6, height: h, fill: COLOURS[emotion] || "#888",
        "data-day": day.key, "data-emotion": emotion, "data-count": count }));
    }
    if (y < base) {
      const total = svg("text", { x: i * step + step / 2, y: y - 3, "text-anchor": "middle", class: "week-day" });
      total.textContent = String(Object.values(day.counts).reduce((a, b) => a + b, 0));
      chart.append(total);
    }
    const label = svg("text", { x: i * step + step / 2, y: height - 6, "text-anchor": "middle", class: "week-day" });
    label.textContent = day.short;
    chart.append(label);
  });
  return chart;
}

function drawTable(days, emotions) {
  const table = document.createElement("table");
  table.id = "week-table";
  const caption = document.createElement("caption");
  caption.textContent = "Readings of the last seven days, by day and emotion";
  const head = document.createElement("tr");
  for (const text of ["Day", ...emotions, "Total"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    head.append(th);
  }
  const thead = document.createElement("thead");
  thead.append(head);
  const body = document.createElement("tbody");
  for (const day of days) {
    const row = document.createElement("tr");
    row.dataset.day = day.key;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = day.label;
    row.append(th);
    let total = 0;
    for (const emotion of emotions) {
      const td = document.createElement("td");
      td.dataset.emotion = emotion;
      td.textContent = String(day.counts[emotion]);
      total += day.counts[emotion];
      row.append(td);
    }
    const sum = document.createElement("td");
    sum.textContent = String(total);
    row.append(sum);
    body.append(row);
  }
  table.append(caption, thead, body);
  // A table ignores a 1px width, so the wrapper is what hides it from the screen (not from readers).
  const wrapper = document.createElement("div");
  wrapper.className = "visually-hidden";
  wrapper.append(table);
  return wrapper;
}

function drawLegend(days, emotions) {
  const shown = emotions.filter((emotion) => days.some((day) => day.counts[emotion]));
  const legend = document.createElement("ul");
  legend.className = "week-legend";
  legend.setAttribute("aria-hidden", "true");
  for (const emotion of shown) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = COLOURS[emotion] || "#888";
    item.append(swatch, emotion);
    legend.append(item);
  }
  return legend;
}

// Draws the week (hidden when the week has no reading) from the entries still shown.
export function renderWeek(entries, emotions) {
  const days = week(entries, emotions);
  const any = days.some((day) => Object.values(day.counts).some(Boolean));
  $("journal-week").hidden = !any;
  $("week-chart").replaceChildren(...(any ? [drawChart(days, emotions), drawLegend(days, emotions), drawTable(days, emotions)] : []));
}
