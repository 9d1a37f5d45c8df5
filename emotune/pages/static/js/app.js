// EmoTune page controller: consent, capture (camera, file, drop or paste), the photo shown at
// once while the API works, the result in its place, sharing, history.

import { api, ApiError } from "./api.js";
import { Camera, cameraProblem } from "./camera.js";
import { History } from "./history.js";
import {
  confidenceLabel, emotionOrder, renderFace, renderModelInfo, renderNoFace, renderPhoto, renderPlaylists,
  renderReading, readingSentence, showVote, strategySentence,
} from "./result.js";
import { drawShareCard, shareCard } from "./share.js";
import { renderCorrection } from "./correction.js";
import { SpotifyControls } from "./spotify.js";

const $ = (id) => document.getElementById(id);

const STAGE_WORDS = {
  queued: "Queued — waiting for the analyser…",
  running: "Analysing your expression…",
  analysing: "Analysing your expression…",
  done: "Done.",
};
const STAGE_ORDER = ["queued", "analysing"];
// An analysis takes about 100-200 ms from upload to result, and the worker picks a photo up within
// EMOTUNE_BROKER_POLL_S (50 ms) on the embedded broker: poll at the same pace for the first two
// seconds, then back off so that a slow or queued analysis does not cost many requests.
const POLL_START_MS = 50;
const POLL_FAST_FOR_MS = 2000;
const POLL_GROWTH = 1.5;
const POLL_MAX_MS = 3000;
const POLL_GIVE_UP_MS = 120000;
const POLL_MAX_MISSES = 4;

const state = {
  photo: null,        // { blob, name } held in memory only, so a retry can resend it
  photoUrl: null,     // object URL of that photo, shown in the result
  shownPhotoUrl: null, // the photo of the result on screen (null for a past result)
  analysis: null,
  selectedFace: 0,
  run: 0,             // bumps on each new analysis so stale polls stop
  retry: null,
  pickedStrategy: null, // set only when the person picks one; otherwise the API chooses
  musicFace: null,    // the face whose emotion drives the music; null follows the analysis
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Nothing is pre-selected: without a choice the API picks the emotion's default (the same one
// the API gives any client), and the result shows which strategy it was and why.
function chosenStrategy() {
  const checked = document.querySelector('input[name="strategy"]:checked');
  return checked ? checked.value : null;
}

function strategyLabel(value) {
  const input = document.querySelector(`input[name="strategy"][value="${CSS.escape(value)}"]`);
  return input ? input.parentElement.textContent.trim() : value;
}

function setStrategy(value) {
  const input = document.querySelector(`input[name="strategy"][value="${CSS.escape(value)}"]`);
  if (input) input.checked = true;
}

// ---- messages --------------------------------------------------------------------------

function showError(error, retry) {
  const message = error instanceof ApiError ? error.message : "Something went wrong. Please try again.";
  $("alert").textContent = message;
  const button = $("alert-retry");
  state.retry = retry;
  if (retry) {
    button.textContent = retry.label;
    $("alert-actions").hidden = false;
    button.focus();
  } else {
    $("alert-actions").hidden = true;
  }
}

function clearError() {
  $("alert").textContent = "";
  $("alert-actions").hidden = true;
  state.retry = null;
}

const chooseAnotherPhoto = {
  label: "Choose another photo",
  run: () => {
    clearError();
    showCapture();
    $("photo-input").focus();
  },
};

// On a touch-first device the phone's own camera app (a file input with capture) takes the
// selfie; elsewhere the in-page camera does, when the browser allows one here.
const touchFirst = () => window.matchMedia("(pointer: coarse)").matches;

// ---- capture ---------------------------------------------------------------------------

const camera = new Camera($("camera-preview"));

function cameraButtons(mode) {
  $("viewfinder").hidden = mode === "idle";
  $("camera-controls").hidden = mode === "idle";
  $("drop-zone").hidden = mode !== "idle";
  $("camera-preview").hidden = mode !== "live";
  $("camera-still").hidden = mode !== "still";
  $("camera-start").hidden = mode !== "idle" || !inPageCamera();
  $("camera-shutter").hidden = mode !== "live";
  $("camera-cancel").hidden = mode !== "live";
  $("camera-use").hidden = mode !== "still";
  $("camera-retake").hidden = mode !== "still";
}

function cameraMessage(text) {
  const message = $("camera-message");
  message.textContent = text || "";
  message.hidden = !text;
}

async function startCamera() {
  cameraMessage("");
  clearError();
  try {
    await camera.start();
    cameraButtons("live");
    $("camera-shutter").focus();
  } catch (error) {
    camera.stop();
    cameraButtons("idle");
    cameraMessage(cameraProblem(error));
    $("photo-input").focus();
  }
}

async function takePhoto() {
  const blob = await camera.capture();
  setPhoto(blob, "selfie.jpg");
  $("camera-still").src = state.photoUrl;
  cameraButtons("still");
  $("camera-use").focus();
}

function setPhoto(blob, name) {
  if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
  state.photo = { blob, name };
  state.photoUrl = URL.createObjectURL(blob);
}

function inPageCamera() {
  return !touchFirst() && !Camera.unavailableReason();
}

function showCapture() {
  $("capture").hidden = false;
  $("progress").hidden = true;
  $("result").hidden = true;
}

// ---- analysis --------------------------------------------------------------------------

function showStage(stage, notice) {
  // A notice (for example "still waiting for a worker") explains a wait that runs long.
  const words = STAGE_WORDS[stage] || "Working…";
  $("status").textContent = notice && notice.message ? `${words} ${notice.message}` : words;
  const index = STAGE_ORDER.indexOf(stage === "running" ? "analysing" : stage);
  for (const [i, item] of [...$("steps").children].entries()) {
    item.classList.toggle("complete", index > i || stage === "done");
    item.classList.toggle("current", index === i);
  }
}

async function analyse() {
  const run = ++state.run;
  clearError();
  camera.stop();
  $("capture").hidden = true;
  $("result").hidden = true;
  // The photo shows at once, from memory, where the result will appear.
  $("progress-photo").src = state.photoUrl;
  showStage(null);
  $("progress").hidden = false;
  $("status").textContent = "Sending your photo…";
  let created;
  const sentAt = performance.now();
  try {
    // Only a strategy the person picked is sent; a radio checked to show our choice is not theirs.
    created = await api.createAnalysis(state.photo.blob, state.photo.name, state.pickedStrategy);
  } catch (error) {
    if (run !== state.run) return;
    $("progress").hidden = true;
    showCapture();
    showError(error, error.isUserError ? chooseAnotherPhoto : { label: "Try again", run: analyse });
    return;
  }
  sessionHistory.refresh();
  await follow(created.id, run, sentAt);
}

// Waits for the analysis and shows it; a failed analysis offers a new try with the same photo,
// a lost connection offers to keep waiting for the same analysis.
// sentAt: when the photo started to upload (performance.now()), to report upload-to-result time.
async function follow(id, run, sentAt = null) {
  try {
    const analysis = await watch(id, run);
    if (!analysis) return;
    showResult(analysis, state.photoUrl, sentAt === null ? null : performance.now() - sentAt);
  } catch (error) {
    if (run !== state.run) return;
    $("progress").hidden = true;
    showCapture();
    const failed = error.code !== "network" && error.status !== 0 && error.status < 500;
    showError(error, failed
      ? { label: "Try again", run: analyse }
      : { label: "Try again", run: () => resume(id) });
  } finally {
    if (run === state.run) sessionHistory.refresh();
  }
}

function resume(id) {
  const run = ++state.run;
  clearError();
  $("capture").hidden = true;
  $("progress").hidden = false;
  follow(id, run);
}

// Follows the analysis over server-sent events (GET /api/analyses/<id>/events): the server tells the
// page when it moves, so no request is spent asking. If the stream cannot be used (no EventSource,
// a proxy that buffers it, a dropped connection) the page falls back to polling, which retries
// quietly and tells the person if the connection stays lost. Returns null when a newer analysis
// took over.
async function watch(id, run) {
  if (typeof EventSource === "undefined") return poll(id, run);
  const outcome = await new Promise((resolve) => {
    const source = new EventSource(`/api/analyses/${encodeURIComponent(id)}/events`);
    const end = (value) => {
      source.close();
      resolve(value);
    };
    source.addEventListener("analysis", (event) => {
      if (run !== state.run) return end({ stale: true });
      let analysis;
      try {
        analysis = JSON.parse(event.data);
      } catch {
        return end({ fallback: true });
      }
      showStage(analysis.stage || analysis.status, analysis.status === "done" ? null : analysis.notice);
      if (analysis.status === "done" || analysis.status === "failed") end({ analysis });
    });
    source.addEventListener("gone", (event) => {
      let error = {};
      try {
        error = JSON.parse(event.data).error || {};
      } catch {
        error = {};
      }
      end({ gone: error });
    });
    // Also fired when the server ends a long stream: polling takes over from there.
    source.onerror = () => end({ fallback: true });
  });
  if (outcome.stale || run !== state.run) return null;
  if (outcome.gone) {
    throw new ApiError(outcome.gone.code || "analysis_not_found",
      outcome.gone.message || "That analysis no longer exists. Take or upload a new photo.", 404);
  }
  if (outcome.fallback) return poll(id, run);
  const analysis = outcome.analysis;
  if (analysis.status === "failed") {
    const error = analysis.error || {};
    throw new ApiError(error.code || "failed", error.message || "The analysis failed. Please try again.", 200);
  }
  return analysis;
}

// Polls with backoff until done or failed; returns null when a newer analysis took over.
async function poll(id, run) {
  const started = performance.now();
  let delay = POLL_START_MS;
  let misses = 0;
  for (;;) {
    let analysis;
    try {
      analysis = await api.getAnalysis(id);
      misses = 0;
    } catch (error) {
      // A blip (network, 5xx) is retried quietly a few times before the person is told.
      const transient = error.status === 0 || error.status >= 500;
      if (!transient || ++misses > POLL_MAX_MISSES) throw error;
      await sleep(delay);
      delay = nextDelay(delay, started);
      continue;
    }
    if (run !== state.run) return null;
    showStage(analysis.stage || analysis.status, analysis.status === "done" ? null : analysis.notice);
    if (analysis.status === "done") return analysis;
    if (analysis.status === "failed") {
      const error = analysis.error || {};
      throw new ApiError(error.code || "failed", error.message || "The analysis failed. Please try again.", 200);
    }
    if (performance.now() - started > POLL_GIVE_UP_MS) {
      throw new ApiError("timeout", "The analysis is taking much longer than usual. Try again in a moment.", 0);
    }
    await sleep(delay);
    delay = nextDelay(delay, started);
  }
}

function nextDelay(delay, started) {
  if (performance.now() - started < POLL_FAST_FOR_MS) return POLL_START_MS;
  return Math.min(delay * POLL_GROWTH, POLL_MAX_MS);
}

// ---- result ----------------------------------------------------------------------------

function selectFace(index) {
  state.selectedFace = index;
  renderPhoto(state.analysis, state.shownPhotoUrl, index, selectFace);
  renderFace(state.analysis, index);
  const box = $("face-boxes").children[index];
  if (box) box.focus();
  // With several faces, the tapped one drives the music; one tap on "Back to the group" undoes it.
  if ((state.analysis.faces || []).length > 1 && state.musicFace !== index) {
    state.musicFace = index;
    loadMusic(`Music for face ${index + 1}.`);
  }
}

function showMusicFor(data) {
  const picked = state.musicFace;
  $("music-for").hidden = picked === null;
  if (picked !== null) {
    const emotion = ((data && data.emotion) || "").toLowerCase();
    $("music-for-text").textContent = `Music for face ${picked + 1}${emotion ? ` (${emotion})` : ""}.`;
  }
}

function backToGroup() {
  if (!state.analysis || state.musicFace === null) return;
  state.musicFace = null;
  const primary = Math.max(0, (state.analysis.faces || []).findIndex((face) => face.primary));
  state.selectedFace = primary;
  renderPhoto(state.analysis, state.shownPhotoUrl, primary, selectFace);
  renderFace(state.analysis, primary);
  loadMusic("Music for the group.");
  $("playlists-title").setAttribute("tabindex", "-1");
  $("playlists-title").focus();
}

function showStrategyChoice(choice, strategy) {
  if (strategy) setStrategy(strategy);
  $("strategy-why").textContent = strategySentence(choice, strategy, strategyLabel);
}

// uploadToResultMs: measured by this page for a new photo; null for a past result.
function showResult(analysis, photoUrl, uploadToResultMs = null) {
  state.analysis = analysis;
  state.shownPhotoUrl = photoUrl;
  const faces = analysis.faces || [];
  const primary = Math.max(0, faces.findIndex((face) => face.primary));
  state.selectedFace = primary;
  state.musicFace = null;
  $("music-for").hidden = true;
  $("progress").hidden = true;
  $("capture").hidden = true;
  renderPhoto(analysis, photoUrl, primary, selectFace);
  $("no-face").hidden = faces.length > 0;
  $("emotion-summary").hidden = faces.length === 0;
  $("reading-block").hidden = faces.length === 0;
  $("share-status").textContent = "";
  $("how-sure").open = false;
  $("correct").open = false;
  $("correct-status").textContent = "";
  if (faces.length) {
    renderCorrection(analysis, emotionOrder(), say);
    renderReading(analysis);
    renderFace(analysis, primary);
    renderModelInfo(analysis, uploadToResultMs);
  } else {
    renderNoFace(analysis);
  }
  const recommendations = analysis.recommendations;
  const playlists = (recommendations && recommendations.playlists) || [];
  $("music").hidden = faces.length === 0 && playlists.length === 0;
  // The API's one statement of the music decision: what it follows, the strategy, who chose it, why.
  showStrategyChoice(analysis.music, (analysis.music && analysis.music.strategy) || analysis.strategy);
  $("music-status").textContent = "";
  renderPlaylists(playlists, vote);
  $("spotify-status").textContent = "";
  spotify.setResult(analysis.id);
  $("result").hidden = false;
  $("result").focus({ preventScroll: true });
  $("result").scrollIntoView({ block: "start" });
}

// "Not how you feel?": the said emotion is stored with the result and the music is chosen for it.
async function say(emotion) {
  const id = state.analysis.id;
  $("correct-status").textContent = "Choosing the music again…";
  try {
    const analysis = await api.correct(id, emotion, state.pickedStrategy);
    if (!state.analysis || state.analysis.id !== id) return;
    state.analysis = analysis;
    state.musicFace = null;
    $("music-for").hidden = true;
    renderCorrection(analysis, emotionOrder(), say);
    const recommendations = analysis.recommendations || {};
    renderPlaylists(recommendations.playlists || [], vote);
    showStrategyChoice(analysis.music, (analysis.music && analysis.music.strategy) || analysis.strategy);
    $("correct-status").textContent = analysis.said_emotion
      ? `Music chosen for how you feel: ${analysis.said_emotion.toLowerCase()}.`
      : `Back to our reading: music for ${analysis.primary_emotion.toLowerCase()}.`;
    sessionHistory.refresh();
  } catch (error) {
    $("correct-status").textContent = error instanceof ApiError ? error.message : "That could not be saved. Try again.";
  }
}

async function share() {
  const analysis = state.analysis;
  if (!analysis || !(analysis.faces || []).length) return;
  const faces = analysis.faces;
  const face = faces[Math.max(0, faces.findIndex((f) => f.primary))];
  const playlists = (analysis.recommendations && analysis.recommendations.playlists) || [];
  const reading = readingSentence(analysis);
  $("share-status").textContent = "Making your mood card…";
  try {
    const blob = await drawShareCard({
      reading,
      band: analysis.group ? null : confidenceLabel(face),
      playlist: playlists[0] || null,
    });
    const how = await shareCard(blob, `${reading} — music by EmoTune`);
    $("share-status").textContent = {
      shared: "Shared. The card holds your reading and the top playlist, never your photo.",
      downloaded: "Mood card downloaded (emotune-mood.png): your reading and the top playlist, never your photo.",
      cancelled: "Sharing cancelled.",
    }[how];
  } catch (error) {
    $("share-status").textContent = "The mood card could not be made in this browser.";
  }
}

async function changeStrategy() {
  if (!state.analysis) return;
  const strategy = chosenStrategy();
  if (!strategy) return;
  state.pickedStrategy = strategy;
  await loadMusic(`Playlists re-ranked: ${strategyLabel(strategy)}.`);
}

// Chooses the music again through the API (the picked strategy, the face that drives it) without
// a new photo; ``done`` is what the status line says once the cards are in.
async function loadMusic(done) {
  const strategy = state.pickedStrategy;
  const face = state.musicFace;
  const id = state.analysis.id;
  $("music-status").textContent = "Choosing the music again…";
  try {
    const data = await api.getRecommendations(id, strategy, face);
    if (!state.analysis || state.analysis.id !== id || state.pickedStrategy !== strategy || state.musicFace !== face) return;
    state.analysis.recommendations = data;
    state.analysis.music = data.music;
    renderPlaylists(data.playlists || [], vote);
    showStrategyChoice(data.music, strategy);
    showMusicFor(data);
    $("music-status").textContent = done;
  } catch (error) {
    $("music-status").textContent = "";
    showError(error, { label: "Try again", run: () => { clearError(); loadMusic(done); } });
  }
}

// A vote is a toggle that shows the saved state: the other thumb changes it, the same thumb again
// takes it back.
async function vote(playlist, direction, card) {
  const status = card.querySelector(".vote-status");
  const value = direction === "up" ? 1 : -1;
  const shown = state.analysis.music && state.analysis.music.strategy;
  const strategy = shown || chosenStrategy();
  try {
    if (playlist.my_vote === value) {
      await api.withdrawFeedback(state.analysis.id, playlist.spotify_id, strategy, state.musicFace);
      if (typeof playlist.liked_by === "number" && value === 1) playlist.liked_by -= 1;
      playlist.my_vote = null;
      showVote(card, playlist);
      status.textContent = "Vote withdrawn.";
      return;
    }
    await api.sendFeedback(state.analysis.id, playlist.spotify_id, direction, strategy, state.musicFace);
    if (typeof playlist.liked_by === "number") {
      playlist.liked_by += (value === 1 ? 1 : 0) - (playlist.my_vote === 1 ? 1 : 0);
    }
    playlist.my_vote = value;
    showVote(card, playlist);
    status.textContent = direction === "up"
      ? "Thanks! We'll suggest more like this. Press again to take it back."
      : "Thanks! We'll suggest less like this. Press again to take it back.";
  } catch (error) {
    status.textContent = error instanceof ApiError ? error.message : "Your vote could not be saved. Try again.";
  }
}

async function viewPast(id) {
  clearError();
  state.run++;
  try {
    const analysis = await api.getAnalysis(id);
    // A past photo is never kept, so the result is shown without it.
    showResult(analysis, null);
  } catch (error) {
    showError(error, null);
  }
}

function startOver() {
  clearError();
  state.run++;
  state.analysis = null;
  $("result").hidden = true;
  $("photo-input").value = "";
  cameraButtons("idle");
  showCapture();
  $("capture-title").setAttribute("tabindex", "-1");
  $("capture-title").focus();
}

// What the result on screen plays, for "Save to Spotify": the API's music decision (a picked face's
// or the said emotion's, once chosen again).
function musicNow() {
  const analysis = state.analysis;
  if (!analysis) return {};
  const music = analysis.music || {};
  const recommendations = analysis.recommendations || {};
  return {
    analysisId: analysis.id,
    emotion: music.emotion,
    strategy: music.strategy || analysis.strategy,
    sourceId: ((recommendations.playlists || [])[0] || {}).spotify_id,
  };
}

const spotify = new SpotifyControls({ music: musicNow });

// Back from Spotify's login (``?spotify=connected|failed&analysis=<id>``): the result the person was
// on opens again, and the address loses the query so a reload does not repeat it.
async function returnFromSpotify() {
  const params = new URLSearchParams(window.location.search);
  const outcome = params.get("spotify");
  const analysisId = params.get("analysis");
  if (outcome || analysisId) window.history.replaceState(null, "", window.location.pathname);
  if (analysisId && !$("app").hidden) await viewPast(analysisId);
  if (outcome) await spotify.arrived(outcome);
  else await spotify.refresh();
}

const sessionHistory = new History({
  onView: viewPast,
  onError: (error) => showError(error, null),
  // A delete lands after its undo window: leave the screen alone unless it still shows that result.
  onDeleted: (ids) => {
    if (state.analysis && ids.includes(state.analysis.id) && !$("result").hidden) startOver();
  },
});

// ---- wiring ----------------------------------------------------------------------------

function useFile(file) {
  if (!file) return;
  setPhoto(file, file.name || "photo");
  cameraButtons("idle");
  analyse();
}

function imageFrom(transfer) {
  if (!transfer) return null;
  for (const file of transfer.files || []) if (file.type.startsWith("image/")) return file;
  for (const item of transfer.items || []) {
    if (item.kind === "file" && item.type.startsWith("image/")) return item.getAsFile();
  }
  return null;
}

// A photo pasted anywhere on the page (desktop: copy an image, Ctrl+V) is taken like a chosen one.
function onPaste(event) {
  if ($("app").hidden || !$("progress").hidden || camera.active) return;
  const file = imageFrom(event.clipboardData);
  if (!file) return;
  event.preventDefault();
  useFile(file);
}

async function agree() {
  try {
    await api.giveConsent();
    $("consent").hidden = true;
    $("app").hidden = false;
    clearError();
    $("capture-title").setAttribute("tabindex", "-1");
    $("capture-title").focus();
    sessionHistory.refresh();
  } catch (error) {
    $("consent").append(Object.assign(document.createElement("p"), {
      className: "message", textContent: error.message,
    }));
  }
}

function wireDropZone() {
  const zone = $("drop-zone");
  // The zone is one big target: a click anywhere in it opens the file chooser.
  zone.addEventListener("click", (event) => {
    if (event.target.closest("button, label, input")) return;
    $("photo-input").click();
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    useFile(imageFrom(event.dataTransfer) || (event.dataTransfer && event.dataTransfer.files[0]));
  });
}

function init() {
  $("consent-agree").addEventListener("click", agree);
  $("camera-start").addEventListener("click", startCamera);
  $("camera-shutter").addEventListener("click", takePhoto);
  $("camera-retake").addEventListener("click", startCamera);
  $("camera-cancel").addEventListener("click", () => { camera.stop(); cameraButtons("idle"); });
  $("camera-use").addEventListener("click", analyse);
  for (const input of [$("photo-input"), $("selfie-input")]) {
    input.addEventListener("change", (event) => {
      const file = event.target.files[0];
      // The file is held in memory from here; clearing the input lets the same file be picked again.
      event.target.value = "";
      useFile(file);
    });
  }
  document.addEventListener("paste", onPaste);
  $("share").addEventListener("click", share);
  $("alert-retry").addEventListener("click", () => state.retry && state.retry.run());
  $("again").addEventListener("click", startOver);
  $("music-group").addEventListener("click", backToGroup);
  for (const input of document.querySelectorAll('input[name="strategy"]')) {
    input.addEventListener("change", changeStrategy);
  }
  wireDropZone();
  const reason = Camera.unavailableReason();
  if (touchFirst()) {
    // Phones: "Take a selfie" opens the camera app; "Choose a photo" opens the gallery.
    $("camera-start").hidden = true;
    $("selfie-path").hidden = false;
  } else if (reason) {
    $("camera-start").hidden = true;
    cameraMessage(reason);
  }
  if (touchFirst()) document.querySelector(".paste-hint").hidden = true;
  if (!$("app").hidden) sessionHistory.refresh();
  returnFromSpotify();
  document.documentElement.dataset.ready = "true";
}

init();
