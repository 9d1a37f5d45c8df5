// This session's history as a mood journal (journal.js draws the days and the week): results only. A single delete waits a few seconds, with Undo, before
// it is sent; deleting everything asks first.

import { api, request } from "./api.js";
import { byDay, renderWeek } from "./journal.js";

const $ = (id) => document.getElementById(id);

// How long a deleted entry can be brought back before the delete is sent to the server.
export const UNDO_MS = 6000;

function describe(entry) {
  if (entry.status === "failed") return "Analysis failed";
  if (entry.status !== "done") return "Still working…";
  if (entry.said_emotion) return `You said ${entry.said_emotion} (we read ${entry.primary_emotion})`;
  if (entry.group && entry.group.sentence) return entry.group.sentence;
  if (!entry.primary_emotion) return "No face found";
  const label = (entry.band && entry.band.label) || entry.confidence_label
    || (entry.confidence != null ? `${Math.round(entry.confidence * 100)}%` : "");
  return label ? `${entry.primary_emotion} (${label})` : entry.primary_emotion;
}

// The time of day: the journal's day heading gives the date.
function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

export class History {
  constructor({ onView, onError, onDeleted }) {
    this.onView = onView;
    this.onError = onError;
    this.onDeleted = onDeleted;
    this.entries = [];
    this.pending = null; // { id, entry, timer }: a delete that can still be undone
    $("history-clear").addEventListener("click", () => this.askClear());
    $("undo").addEventListener("click", () => this.undo());
    $("confirm-clear-yes").addEventListener("click", () => {
      $("confirm-clear").close("yes");
      this.clear();
    });
    $("confirm-clear-no").addEventListener("click", () => $("confirm-clear").close("no"));
    $("confirm-clear").addEventListener("close", () => {
      if ($("confirm-clear").returnValue !== "yes") $("history-clear").focus();
    });
    // Leaving the page within the undo window still deletes: the request outlives the page.
    window.addEventListener("pagehide", () => this.flush(true));
  }

  async refresh() {
    try {
      const data = await api.getHistory();
      this.entries = (data && data.analyses) || [];
      this.render();
    } catch (error) {
      this.onError(error);
    }
  }

  // The journal: the week's chart, then each day's readings under its date.
  render() {
    const pendingId = this.pending && this.pending.id;
    const entries = this.entries.filter((entry) => entry.id !== pendingId);
    const list = $("history-list");
    list.replaceChildren();
    $("history-empty").hidden = entries.length > 0;
    $("history-clear").hidden = entries.length === 0;
    renderWeek(entries, JSON.parse($("bars").dataset.emotions));
    for (const day of byDay(entries)) {
      const group = document.createElement("section");
      group.className = "journal-day";
      group.setAttribute("aria-label", day.label);
      const heading = document.createElement("h3");
      heading.className = "journal-date";
      heading.textContent = day.label;
      const items = document.createElement("ul");
      items.className = "journal-entries";
      for (const entry of day.entries) items.append(this.item(entry));
      group.append(heading, items);
      list.append(group);
    }
  }

  item(entry) {
    const item = document.createElement("li");
    item.className = "history-item";
    item.dataset.analysisId = entry.id;
    const text = document.createElement("span");
    const summary = document.createElement("span");
    summary.className = "history-summary";
    summary.textContent = describe(entry);
    const time = document.createElement("span");
    time.className = "history-when";
    time.textContent = when(entry.created_at);
    text.append(summary, time);
    const actions = document.createElement("span");
    actions.className = "button-row";
    if (entry.status === "done") {
      const view = document.createElement("button");
      view.type = "button";
      view.className = "button";
      view.textContent = "View";
      view.setAttribute("aria-label", `View result: ${describe(entry)}, ${time.textContent}`);
      view.addEventListener("click", () => this.onView(entry.id));
      actions.append(view);
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button danger";
    remove.textContent = "Delete";
    remove.setAttribute("aria-label", `Delete result: ${describe(entry)}, ${time.textContent}`);
    remove.addEventListener("click", () => this.remove(entry.id));
    actions.append(remove);
    item.append(text, actions);
    return item;
  }

  // Hides the entry at once and offers Undo; the delete is sent when the window closes.
  async remove(id) {
    await this.flush();
    const entry = this.entries.find((e) => e.id === id);
    const timer = setTimeout(() => this.flush(), UNDO_MS);
    this.pending = { id, entry, timer };
    this.render();
    $("undo-text").textContent = `Deleted “${entry ? describe(entry) : "result"}”.`;
    $("undo-bar").hidden = false;
    $("history-status").textContent = `Result deleted. Undo is available for ${UNDO_MS / 1000} seconds.`;
    $("undo").focus();
  }

  undo() {
    if (!this.pending) return;
    const { id, timer } = this.pending;
    clearTimeout(timer);
    this.pending = null;
    $("undo-bar").hidden = true;
    this.render();
    $("history-status").textContent = "Result restored.";
    const item = [...$("history-list").querySelectorAll("li")].find((li) => li.dataset.analysisId === id);
    const button = item && item.querySelector("button");
    if (button) button.focus();
  }

  // Sends the pending delete now (at the end of the undo window, before another delete, or as
  // the page goes away, where ``keepalive`` lets the request finish).
  async flush(leaving = false) {
    if (!this.pending) return;
    const { id, timer } = this.pending;
    clearTimeout(timer);
    this.pending = null;
    const undoHadFocus = document.activeElement === $("undo");
    $("undo-bar").hidden = true;
    if (leaving) {
      request("DELETE", `/api/analyses/${encodeURIComponent(id)}`, { keepalive: true }).catch(() => {});
      return;
    }
    try {
      await api.deleteAnalysis(id);
      this.entries = this.entries.filter((e) => e.id !== id);
      this.onDeleted([id]);
      $("history-status").textContent = "Result deleted for good.";
    } catch (error) {
      if (error.status !== 404) this.onError(error);
    }
    await this.refresh();
    if (undoHadFocus) {
      $("history-title").setAttribute("tabindex", "-1");
      $("history-title").focus();
    }
  }

  askClear() {
    const dialog = $("confirm-clear");
    if (typeof dialog.showModal === "function") {
      dialog.returnValue = "";
      dialog.showModal();
      $("confirm-clear-no").focus();
    } else if (window.confirm("Delete all history? This cannot be undone.")) {
      this.clear();
    }
  }

  async clear() {
    try {
      if (this.pending) {
        clearTimeout(this.pending.timer);
        this.pending = null;
        $("undo-bar").hidden = true;
      }
      const ids = this.entries.map((entry) => entry.id);
      await api.clearHistory();
      $("history-status").textContent = "History deleted.";
      this.onDeleted(ids);
      await this.refresh();
      $("history-title").setAttribute("tabindex", "-1");
      $("history-title").focus();
    } catch (error) {
      this.onError(error);
    }
  }
}
