// The JSON API client: every call sends the CSRF token and turns failures into ApiError
// carrying the API's own user-facing message.

export class ApiError extends Error {
  constructor(code, message, status = 0) {
    super(message);
    this.code = code;
    this.status = status;
  }

  // A user error (bad photo, unknown strategy) is fixed by a different input, not by retrying.
  get isUserError() {
    return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

const FALLBACK_MESSAGES = {
  0: "EmoTune could not be reached. Check your connection and try again.",
  404: "That analysis no longer exists. Take or upload a new photo.",
  413: "That photo is too big. Choose a smaller one (see the size limit under \"Choose a photo\").",
  429: "Too many requests in a short time. Wait a moment and try again.",
};

function fallbackMessage(status) {
  if (FALLBACK_MESSAGES[status]) return FALLBACK_MESSAGES[status];
  if (status >= 500) return "Something went wrong on our side. Please try again in a moment.";
  return "The request was refused. Reload the page and try again.";
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export async function request(method, url, { body, json, keepalive = false } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  let payload = body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload, credentials: "same-origin", keepalive });
  } catch {
    throw new ApiError("network", FALLBACK_MESSAGES[0], 0);
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(error.code || `http_${response.status}`, error.message || fallbackMessage(response.status), response.status);
  }
  return data;
}

const enc = encodeURIComponent;

export const api = {
  giveConsent: () => request("POST", "/api/consent"),
  // ``strategy`` only when the person picked one; otherwise the API chooses and says why.
  createAnalysis(blob, filename, strategy) {
    const form = new FormData();
    form.append("image", blob, filename);
    if (strategy) form.append("strategy", strategy);
    return request("POST", "/api/analyses", { body: form });
  },
  getAnalysis: (id) => request("GET", `/api/analyses/${enc(id)}`),
  // ``face`` (a face's index) makes that face drive the music; null follows the group.
  getRecommendations(id, strategy, face = null) {
    const query = new URLSearchParams();
    if (strategy) query.set("strategy", strategy);
    if (face !== null && face !== undefined) query.set("face", String(face));
    return request("GET", `/api/analyses/${enc(id)}/recommendations?${query}`);
  },
  // ``strategy`` names the list the person voted on (it may have been re-ranked), ``face`` the face
  // whose emotion drove it (null: the analysis's own).
  sendFeedback: (id, playlistId, vote, strategy, face = null) =>
    request("POST", `/api/analyses/${enc(id)}/feedback`, { json: { playlist_id: playlistId, vote, strategy, face } }),
  withdrawFeedback: (id, playlistId, strategy, face = null) =>
    request("DELETE", `/api/analyses/${enc(id)}/feedback`, { json: { playlist_id: playlistId, strategy, face } }),
  // ``emotion`` is how the person feels (null keeps the reading); ``strategy`` only when they picked one.
  correct: (id, emotion, strategy) =>
    request("PUT", `/api/analyses/${enc(id)}/correction`, { json: { emotion, strategy: strategy || null } }),
  deleteAnalysis: (id) => request("DELETE", `/api/analyses/${enc(id)}`),
  getHistory: () => request("GET", "/api/history"),
  clearHistory: () => request("DELETE", "/api/history"),
};
