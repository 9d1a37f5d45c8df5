// Drawing a finished analysis: face boxes over the in-memory photo, the reading in one sentence,
// how sure it is (in the words the model's measured bands give), the 7 labelled bars and the
// playlist cards. Every field of the shared API contract is shown when present; an older answer
// without it still reads well.

const $ = (id) => document.getElementById(id);

export function emotionOrder() {
  return JSON.parse($("bars").dataset.emotions);
}

export function percent(p) {
  const value = p * 100;
  if (value > 0 && value < 1) return "<1%";
  return `${Math.round(value)}%`;
}

// The served model's band words, as the API gives them ("uncalibrated" for a model without bands).
export function confidenceLabel(face) {
  if (face.band && face.band.label) return face.band.label;
  return face.confidence_label;
}

// "(64%; right 85% of the time at this confidence in our tests)", or the top two when unsure.
function confidenceDetail(face, pct) {
  if (!face.band) return ` (${pct}%).`;
  const measured = `right ${Math.round(face.band.accuracy * 100)}% of the time at this confidence in our tests`;
  if (face.band.key === "unsure") return ` (${pct}%): it could be ${face.reading} (${measured}).`;
  return ` (${pct}%; ${measured}).`;
}

// "happy", or "sad or neutral" when the band is unsure (the API's own reading when present).
export function readingWords(face) {
  return (face.reading || face.emotion || "").toLowerCase();
}

function primaryIndex(analysis) {
  return Math.max(0, (analysis.faces || []).findIndex((face) => face.primary));
}

// The sentence the share card and the page lead with: the group's reading for several faces.
export function readingSentence(analysis) {
  const faces = analysis.faces || [];
  if (!faces.length) return "";
  if (analysis.group && analysis.group.sentence) return analysis.group.sentence;
  if (faces.length === 1) return `You look ${readingWords(faces[0])}`;
  const index = primaryIndex(analysis);
  return `Face ${index + 1} of ${faces.length} looks ${readingWords(faces[index])}`;
}

export function renderPhoto(analysis, photoUrl, selectedIndex, onSelect) {
  const photo = $("result-photo");
  const boxes = $("face-boxes");
  const stage = $("photo-stage");
  boxes.replaceChildren();
  const faces = analysis.faces || [];
  const ignored = analysis.ignored_faces || [];
  const { width, height } = analysis.image || {};
  // A past result has no photo (it is never kept); the same frame shows where the faces were,
  // so a result from history opens in the same layout as a fresh one.
  photo.hidden = !photoUrl;
  stage.classList.toggle("no-photo", !photoUrl);
  $("photo-missing").hidden = Boolean(photoUrl);
  $("photo-frame").hidden = !photoUrl && !(width && height);
  if (photoUrl && photo.src !== photoUrl) photo.src = photoUrl;
  if (!photoUrl && width && height) {
    stage.style.aspectRatio = `${width} / ${height}`;
    stage.style.setProperty("--ratio", String(width / height));
  } else {
    stage.style.aspectRatio = "";
  }
  const caption = [];
  if (faces.length > 1) caption.push(`${faces.length} faces found. Select a face to see its emotions and get music for it.`);
  else if (faces.length === 1) caption.push("The box shows the face that was analysed.");
  else caption.push("No face was read in this photo.");
  if (ignored.length) {
    caption.push(`${ignored.length} ${ignored.length === 1 ? "face was" : "faces were"} left out (dashed): ${ignored.map((f) => f.reason).join("; ")}.`);
  }
  if (analysis.faces_left_out) caption.push(`${analysis.faces_left_out} more faces were not analysed.`);
  // A past result's frame needs no "the box shows the face" line: the note under it says it.
  if (!photoUrl && !ignored.length && !analysis.faces_left_out && faces.length <= 1) caption.length = 0;
  $("photo-caption").textContent = caption.join(" ");
  if (!width || !height) return;
  const place = (element, box) => {
    // Percentages keep the boxes on the face at any displayed size.
    element.style.left = `${(box.x / width) * 100}%`;
    element.style.top = `${(box.y / height) * 100}%`;
    element.style.width = `${(box.width / width) * 100}%`;
    element.style.height = `${(box.height / height) * 100}%`;
  };
  faces.forEach((face, index) => {
    const box = document.createElement("button");
    box.type = "button";
    box.className = "face-box";
    place(box, face.box);
    box.setAttribute("aria-pressed", String(index === selectedIndex));
    const shows = faces.length > 1 ? "Show its emotions and music for it." : "Show its emotions.";
    box.setAttribute("aria-label", `Face ${index + 1}: ${face.emotion}, ${confidenceLabel(face)}. ${shows}`);
    const tag = document.createElement("span");
    tag.className = "face-tag";
    tag.setAttribute("aria-hidden", "true");
    tag.textContent = faces.length > 1 ? `${index + 1}. ${face.emotion}` : face.emotion;
    box.append(tag);
    box.addEventListener("click", () => onSelect(index));
    boxes.append(box);
  });
  for (const face of ignored) {
    if (!face.box) continue;
    const mark = document.createElement("span");
    mark.className = "face-box ignored";
    mark.setAttribute("aria-hidden", "true");
    place(mark, face.box);
    boxes.append(mark);
  }
}

// The reading in one sentence, first on the screen, and what the music follows.
export function renderReading(analysis) {
  const faces = analysis.faces || [];
  const reading = $("reading");
  reading.replaceChildren();
  const strong = document.createElement("strong");
  strong.textContent = readingSentence(analysis);
  reading.append(strong, ".");
  const follows = document.createElement("span");
  follows.className = "follows";
  if (faces.length > 1) {
    if (analysis.music && analysis.music.follows === "said") {
      follows.textContent = ` The music follows how you said you feel (${analysis.music.emotion.toLowerCase()}).`;
    } else if (analysis.group && (!analysis.music || analysis.music.follows !== "face")) {
      follows.textContent = ` The music follows the group (${(analysis.group.emotion || "").toLowerCase()}).`;
    } else {
      const index = primaryIndex(analysis);
      follows.textContent = ` The music follows face ${index + 1}, the largest.`;
    }
    reading.append(follows);
  }
  renderHowSure(analysis);
}

function bandSentence(band) {
  const tenths = Math.round(band.accuracy * 10);
  return `“${band.label}”: on faces the model had never seen, readings in this band were right ${tenths} times in 10 (${percent(band.accuracy)}).`;
}

// "How sure is this?" one tap away: measured accuracy per band when the model records it, an
// honest note about the raw score when it does not.
export function renderHowSure(analysis) {
  const faces = analysis.faces || [];
  const index = primaryIndex(analysis);
  const face = faces[index];
  const label = $("band-label");
  const text = $("how-sure-text");
  const list = $("band-list");
  list.replaceChildren();
  if (!face) return;
  label.textContent = confidenceLabel(face);
  label.dataset.band = face.band ? face.band.key : "";
  const bands = new Map();
  for (const f of faces) if (f.band && f.band.label && typeof f.band.accuracy === "number") bands.set(f.band.key, f.band);
  if (bands.size) {
    text.textContent = "EmoTune reads an expression, not a feeling. How often a reading is right was measured on a held-out set of faces, per band of certainty:";
    for (const band of bands.values()) {
      const item = document.createElement("li");
      item.textContent = bandSentence(band);
      list.append(item);
    }
    if (face.band && face.band.key === "unsure") {
      const item = document.createElement("li");
      item.textContent = "When the model is unsure, the page names the top two emotions instead of one.";
      list.append(item);
    }
  } else {
    text.textContent = `The model gives ${face.emotion} a score of ${percent(face.confidence)}. `
      + "That score is the model's own, not a measured rate of being right: read it as a rough guide. "
      + "EmoTune reads an expression, not a feeling, and it can be wrong.";
  }
}

export function renderFace(analysis, index) {
  const face = analysis.faces[index];
  const many = analysis.faces.length > 1;
  const verdict = $("verdict");
  const pct = Math.round(face.confidence * 100);
  verdict.replaceChildren();
  const who = many ? `Face ${index + 1}${face.primary ? " (the largest)" : ""} looks ` : "You look ";
  const strong = document.createElement("strong");
  strong.textContent = face.emotion;
  verdict.append(who, strong, `. The model is ${confidenceLabel(face)}${confidenceDetail(face, pct)}`);

  const bars = $("bars");
  bars.replaceChildren();
  for (const emotion of emotionOrder()) {
    const p = face.probabilities[emotion] ?? 0;
    const row = document.createElement("li");
    row.className = emotion === face.emotion ? "bar-row top" : "bar-row";
    const label = document.createElement("span");
    label.className = "bar-label";
    label.textContent = emotion;
    const track = document.createElement("span");
    track.className = "bar-track";
    track.setAttribute("aria-hidden", "true");
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    fill.style.display = "block";
    fill.style.width = `${(p * 100).toFixed(1)}%`;
    track.append(fill);
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = percent(p);
    row.append(label, " ", track, " ", value);
    bars.append(row);
  }
}

// Two different times, each named: what the models themselves took (face detection and emotion),
// and how long the person waited from upload to result (measured here; for a past result, the
// server's time from upload to done, which leaves out the network).
export function renderModelInfo(analysis, uploadToResultMs = null) {
  const parts = [];
  if (analysis.model && analysis.model.name) parts.push(`Model ${analysis.model.name}`);
  const timings = analysis.timings_ms || {};
  if (timings.detect != null && timings.classify != null) {
    parts.push(`face and emotion models ${Math.round(timings.detect + timings.classify)} ms`);
  }
  if (uploadToResultMs != null) {
    parts.push(`upload to result ${Math.round(uploadToResultMs)} ms`);
  } else if (timings.total != null) {
    parts.push(`upload to result ${Math.round(timings.total)} ms (server)`);
  }
  $("model-info").textContent = parts.join(" · ");
}

export function renderNoFace(analysis) {
  const notice = analysis.notice || {};
  $("no-face-message").textContent = notice.message
    || "No face could be found in this photo. Try another one.";
  const tips = notice.tips && notice.tips.length ? notice.tips : [
    "Face a window or a lamp so your face is evenly lit.",
    "Hold the camera about an arm's length away, face straight on.",
    "Make sure one face fills a good part of the picture.",
  ];
  const list = $("no-face-tips");
  list.replaceChildren(...tips.map((tip) => {
    const item = document.createElement("li");
    item.textContent = tip;
    return item;
  }));
  const ignored = analysis.ignored_faces || [];
  $("ignored").hidden = ignored.length === 0;
  $("ignored-list").replaceChildren(...ignored.map((face) => {
    const item = document.createElement("li");
    item.textContent = face.reason;
    return item;
  }));
}

// The strategy in words: who picked it and why (the API's music decision).
export function strategySentence(choice, strategy, labelOf) {
  if (choice && choice.strategy) {
    const who = choice.chosen_by === "you" ? "You chose" : "We chose";
    return `${who} “${labelOf(choice.strategy)}”${choice.why ? `: ${choice.why}` : "."}`;
  }
  return strategy ? `Music: “${labelOf(strategy)}”.` : "";
}

// A stand-in cover, different per playlist, when Spotify gave none (or it cannot load).
function hue(text) {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

export function coverColours(playlist) {
  const h = hue(playlist.spotify_id || playlist.name || "");
  return [`hsl(${h} 55% 32%)`, `hsl(${(h + 60) % 360} 60% 24%)`];
}

function placeholderCover(image, playlist) {
  const cover = document.createElement("span");
  cover.className = "card-image card-cover";
  cover.setAttribute("aria-hidden", "true");
  const [a, b] = coverColours(playlist);
  cover.style.backgroundImage = `linear-gradient(135deg, ${a}, ${b})`;
  cover.textContent = (playlist.name || "♪").trim().charAt(0).toUpperCase() || "♪";
  image.replaceWith(cover);
}

// A facade: Spotify's player (and its cookies and scripts) loads only when the person asks for
// it, which keeps the result fast and private; if it cannot load, the card still reads well.
export function loadPlayer(card, playlist) {
  const frame = document.createElement("iframe");
  frame.className = "card-embed";
  frame.title = `Spotify player: ${playlist.name}`;
  frame.src = playlist.embed_url || `https://open.spotify.com/embed/playlist/${encodeURIComponent(playlist.spotify_id)}`;
  frame.loading = "lazy";
  frame.width = "100%";
  frame.height = "152";
  frame.allow = "autoplay; clipboard-write; encrypted-media; fullscreen; picture-in-picture";
  frame.referrerPolicy = "strict-origin-when-cross-origin";
  const embed = card.querySelector(".embed");
  embed.replaceChildren(frame);
  embed.classList.add("loaded");
  const note = document.createElement("p");
  note.className = "embed-note muted small";
  note.textContent = "Player not loading? Use “Open in Spotify”.";
  embed.after(note);
  card.querySelector(".embed-play").hidden = true;
  frame.focus();
}

// Older answers put the vote count inside the reason ("... (liked 2 times)"); the page moves it out.
const LEGACY_LIKES = /\s*\(liked (\d+) times?\)\s*$/;

function splitReason(playlist) {
  const reason = playlist.reason || "";
  const match = reason.match(LEGACY_LIKES);
  if (!match) return reason;
  if (typeof playlist.liked_by !== "number") playlist.legacy_likes = Number(match[1]);
  return reason.replace(LEGACY_LIKES, "");
}

export function likedWords(count, mine) {
  if (!count) return "";
  const people = count === 1 ? "1 listener" : `${count} listeners`;
  return mine ? `Liked by ${people}, including you` : `Liked by ${people}`;
}

// Shows a card's vote state: the pressed toggle and the "liked by" line outside the reason.
export function showVote(card, playlist) {
  for (const button of card.querySelectorAll(".vote")) {
    const value = button.dataset.vote === "up" ? 1 : -1;
    button.setAttribute("aria-pressed", String(playlist.my_vote === value));
  }
  const liked = card.querySelector(".card-liked");
  let words = "";
  if (typeof playlist.liked_by === "number") words = likedWords(playlist.liked_by, playlist.my_vote === 1);
  else if (playlist.legacy_likes) words = `Liked ${playlist.legacy_likes === 1 ? "once" : `${playlist.legacy_likes} times`}`;
  liked.textContent = words;
  liked.hidden = !words;
}

export function renderPlaylists(playlists, onVote) {
  const list = $("playlists");
  const template = $("playlist-card");
  list.replaceChildren();
  if (!playlists.length) {
    const empty = document.createElement("li");
    empty.className = "muted";
    empty.textContent = "No playlists are available right now. Try another strategy, or come back later.";
    list.append(empty);
    return;
  }
  playlists.forEach((playlist, position) => {
    const card = template.content.firstElementChild.cloneNode(true);
    card.dataset.playlistId = playlist.spotify_id;
    const image = card.querySelector(".card-image");
    const cover = playlist.cover_url;
    if (cover) {
      // The first cover is on the first screen: load it at once; a broken one gets the stand-in.
      if (position === 0) image.loading = "eager";
      image.addEventListener("error", () => placeholderCover(image, playlist), { once: true });
      image.src = cover;
    } else {
      placeholderCover(image, playlist);
    }
    card.querySelector(".card-name").textContent = playlist.name;
    const owner = card.querySelector(".card-owner");
    const bits = [];
    if (playlist.owner) bits.push(`by ${playlist.owner}`);
    if (typeof playlist.track_count === "number" && playlist.track_count > 0) {
      bits.push(`${playlist.track_count} ${playlist.track_count === 1 ? "track" : "tracks"}`);
    }
    owner.textContent = bits.join(" · ");
    owner.hidden = bits.length === 0;
    card.querySelector(".card-reason").textContent = splitReason(playlist);
    const play = card.querySelector(".embed-play");
    play.setAttribute("aria-label", `Play here: ${playlist.name} (loads Spotify's player)`);
    play.addEventListener("click", () => loadPlayer(card, playlist));
    const link = card.querySelector(".card-link");
    link.href = playlist.url || `https://open.spotify.com/playlist/${encodeURIComponent(playlist.spotify_id)}`;
    link.setAttribute("aria-label", `Open in Spotify: ${playlist.name} (opens a new tab)`);
    for (const button of card.querySelectorAll(".vote")) {
      const verb = button.dataset.vote === "up" ? "I like" : "Not for me:";
      button.setAttribute("aria-label", `${verb} ${playlist.name}`);
      button.addEventListener("click", () => onVote(playlist, button.dataset.vote, card));
    }
    showVote(card, playlist);
    list.append(card);
  });
}
