// Spotify on the result: connect (the login comes back to this result), the account's name, "Save
// to Spotify" (a new private playlist, linked once made), "Disconnect". Without a Spotify app set
// up on the server the controls stay hidden and "How does saving to Spotify work?" says why.

import { ApiError, request } from "./api.js";

const $ = (id) => document.getElementById(id);

const HOW_ON = "“Connect Spotify” takes you to Spotify to let EmoTune create playlists in your account, "
  + "then brings you back to this result. “Save to Spotify” makes a new private playlist of tracks for the "
  + "mood the music follows. The login stays on EmoTune's server, never in this page; “Disconnect” forgets it. "
  + "While this app is in Spotify's development mode, only the accounts its owner has added (up to 5) can connect.";
const HOW_OFF = "Saving to Spotify is not available on this EmoTune: its server has no Spotify app set up "
  + "(the operator has not set SPOTIFY_CLIENT_ID). Every playlist still opens in Spotify from its card.";
// Failures after which the person has to connect again.
const RECONNECT = new Set(["spotify_login_expired", "spotify_login_required", "spotify_user_not_allowed"]);

export class SpotifyControls {
  // ``music()`` gives what the result on screen plays: { analysisId, emotion, strategy, sourceId }.
  constructor({ music }) {
    this.music = music;
    this.status = null;
    $("spotify-save").addEventListener("click", () => this.save());
    $("spotify-disconnect").addEventListener("click", () => this.disconnect());
  }

  say(text, link = null) {
    const line = $("spotify-status");
    line.replaceChildren(text);
    if (link) {
      const anchor = document.createElement("a");
      anchor.href = link.href;
      anchor.target = "_blank";
      anchor.rel = "noopener noreferrer";
      anchor.textContent = link.text;
      line.append(" ", anchor);
    }
  }

  // Reads the login state (and a failed login's sentence, once) and shows the matching controls.
  async refresh() {
    try {
      this.status = await request("GET", "/spotify/status");
    } catch (error) {
      this.status = null;
    }
    this.render();
    return this.status;
  }

  render() {
    const status = this.status || {};
    const available = Boolean(status.login_available);
    $("spotify-how-text").textContent = available ? HOW_ON : HOW_OFF;
    $("spotify-login").hidden = !available || status.logged_in;
    $("spotify-account").hidden = !available || !status.logged_in;
    $("spotify-name").textContent = status.display_name || "";
    this.setResult(this.music().analysisId);
  }

  // The login link names the result on screen, so the login comes back to it.
  setResult(analysisId) {
    $("spotify-connect").href = analysisId
      ? `/spotify/login?analysis=${encodeURIComponent(analysisId)}` : "/spotify/login";
  }

  async save() {
    const music = this.music();
    if (!music.emotion || !music.strategy) return;
    const button = $("spotify-save");
    button.disabled = true;
    this.say("Saving to Spotify…");
    try {
      const made = await request("POST", "/spotify/playlists", {
        json: { emotion: music.emotion, strategy: music.strategy, source_playlist_id: music.sourceId || null },
      });
      const tracks = `${made.tracks_added} ${made.tracks_added === 1 ? "track" : "tracks"}`;
      this.say(`Saved “${made.name}” (${tracks}) as a private playlist in your Spotify account.`,
        { href: made.url, text: "Open it in Spotify (opens a new tab)" });
    } catch (error) {
      this.say(error instanceof ApiError ? error.message : "Nothing was saved. Try again in a moment.");
      if (error instanceof ApiError && RECONNECT.has(error.code)) {
        const sentence = $("spotify-status").textContent;
        await this.refresh();
        this.say(sentence);
      }
    } finally {
      button.disabled = false;
    }
  }

  async disconnect() {
    try {
      await request("POST", "/spotify/logout");
      await this.refresh();
      this.say("Disconnected: EmoTune has forgotten your Spotify login.");
      $("spotify-connect").focus();
    } catch (error) {
      this.say(error instanceof ApiError ? error.message : "Could not disconnect. Try again.");
    }
  }

  // After the login's round trip: "connected" or "failed" (the sentence comes from the server).
  async arrived(outcome) {
    const status = await this.refresh();
    if (!status) return;
    if (outcome === "connected" && status.logged_in) {
      this.say(`Connected to Spotify as ${status.display_name}.`);
    } else if (status.notice) {
      this.say(status.notice.message);
    } else if (outcome === "failed") {
      this.say("Spotify did not complete the login; nothing was connected. Use “Connect Spotify” to try again.");
    }
  }
}
