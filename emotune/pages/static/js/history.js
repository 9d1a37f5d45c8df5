// This browser session's history: results only, each deletable, or all at once.

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);

function describe(entry) {
  if (entry.status === "failed") return "Analysis failed";
  if (entry.status !== "done") return "Still working…";
  if (!entry.primary_emotion) return "No face found";
  const label = entry.confidence_label
    || (entry.confidence != null ? `${Math.round(entry.confidence * 100)}%` : "");
  return label ? `${entry.primary_emotion} (${label})` : entry.primary_emotion;
}

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

export class History {
  constructor({ onView, onError, onDeleted }) {
    this.onView = onView;
    this.onError = onError;
    this.onDeleted = onDeleted;
    $("history-clear").addEventListener("click", () => this.clear());
  }

  async refresh() {
    try {
      const data = await api.getHistory();
      this.render((data && data.analyses) || []);
    } catch (error) {
      this.onError(error);
    }
  }

  render(entries) {
    const list = $("history-list");
    list.replaceChildren();
    $("history-empty").hidden = entries.length > 0;
    $("history-clear").hidden = entries.length === 0;
    for (const entry of entries) {
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
      list.append(item);
    }
  }

  async remove(id) {
    try {
      await api.deleteAnalysis(id);
      $("history-status").textContent = "Result deleted.";
      this.onDeleted([id]);
      await this.refresh();
      $("history-title").setAttribute("tabindex", "-1");
      $("history-title").focus();
    } catch (error) {
      this.onError(error);
    }
  }

  async clear() {
    try {
      const ids = [...$("history-list").children].map((item) => item.dataset.analysisId);
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
