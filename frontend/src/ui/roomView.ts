/**
 * Renders a RoomClient into the room page's markup (rooms/templates/rooms/room.html):
 * status line, tile grid, participants list, control states and remote audio.
 */

import type { RoomClient } from "../client/roomClient";
import { canModerate } from "../client/roomState";
import {
  buildParticipants,
  buildTiles,
  gridColumns,
  type LocalSummary,
  SELF_CAMERA_KEY,
  type TileModel,
} from "../client/tiles";
import { AudioLevelMonitor } from "./audioLevels";
import { AudioSinks } from "./audioSinks";
import { byId, h, setAttribute, setText, showMessage } from "./dom";
import { type ModeratorActions, TileView } from "./tileView";

export interface RoomViewOptions {
  readonly displayName: string;
  readonly moderatorActions: ModeratorActions;
  readonly onPin: (key: string) => void;
  readonly pinnedKey: () => string | null;
}

const STATUS_TEXT: Partial<Record<string, string>> = {
  idle: "Getting ready...",
  connecting: "Joining the room...",
};

export class RoomView {
  private readonly tiles = new Map<string, TileView>();
  private readonly grid = byId("tiles");
  private readonly participants = byId<HTMLUListElement>("participants");
  private readonly participantCount = byId("participant-count");
  private readonly status = byId("status");
  private readonly audioBlocked = byId<HTMLButtonElement>("enable-audio");
  private readonly sinks: AudioSinks;
  private readonly levels: AudioLevelMonitor;
  private scheduled = false;
  private destroyed = false;
  private readonly listeners = new AbortController();

  constructor(
    private readonly client: RoomClient,
    private readonly options: RoomViewOptions,
  ) {
    this.sinks = new AudioSinks(byId("audio-sinks"), () => {
      this.audioBlocked.hidden = false;
    });
    this.levels = new AudioLevelMonitor(() => this.scheduleRender());
    const signal = this.listeners.signal;
    this.audioBlocked.addEventListener("click", () => this.resumeAudio(), { signal });
    document.addEventListener("pointerdown", () => this.levels.resume(), { once: true, signal });
  }

  /** Retries audio after a click (browsers block autoplay with sound without one). */
  resumeAudio(): void {
    this.audioBlocked.hidden = true;
    this.sinks.resume();
    this.levels.resume();
  }

  scheduleRender(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.render();
    });
  }

  localSummary(): LocalSummary {
    const microphone = this.client.localTrack("microphone");
    const camera = this.client.localTrack("camera");
    return {
      displayName: this.options.displayName,
      hasMicrophone: microphone !== null,
      microphoneActive: microphone?.active ?? false,
      hasCamera: camera !== null,
      cameraActive: camera?.active ?? false,
      sharingScreen: this.client.localTrack("screensharing") !== null,
    };
  }

  render(): void {
    if (this.destroyed) return;
    const state = this.client.state;
    const statusText = state.status === "reconnecting" ? state.message : (STATUS_TEXT[state.status] ?? null);
    showMessage(this.status, statusText);
    setAttribute(this.status, "data-status", state.status);
    document.body.dataset.roomStatus = state.status;

    const local = this.localSummary();
    const models = buildTiles(state, local, this.options.pinnedKey());
    this.renderTiles(models);
    this.renderParticipants(state, local);
    this.renderAudio(models);
  }

  destroy(): void {
    this.destroyed = true;
    this.listeners.abort();
    this.audioBlocked.hidden = true;
    for (const tile of this.tiles.values()) tile.destroy();
    this.tiles.clear();
    this.sinks.clear();
    this.levels.close();
    this.participants.replaceChildren();
  }

  private videoFor(model: TileModel): MediaStreamTrack | null {
    if (model.isSelf) {
      return this.client.localTrack(model.kind === "screen" ? "screensharing" : "camera")?.track ?? null;
    }
    if (!model.endpointId || !model.videoTrackId) return null;
    return this.client.remoteTrack(model.endpointId, model.videoTrackId);
  }

  private renderTiles(models: readonly TileModel[]): void {
    const keep = new Set(models.map((model) => model.key));
    for (const [key, tile] of this.tiles) {
      if (!keep.has(key)) {
        tile.destroy();
        this.tiles.delete(key);
      }
    }
    const moderator = canModerate(this.client.state);
    const hasPinned = models.some((model) => model.pinned);
    this.grid.classList.toggle("has-pinned", hasPinned);
    // With a pinned tile the others become a strip of thumbnails below it.
    const columns = hasPinned ? Math.max(4, gridColumns(models.length - 1)) : gridColumns(models.length);
    this.grid.style.setProperty("--columns", String(columns));
    let previous: Element | null = null;
    for (const model of models) {
      let tile = this.tiles.get(model.key);
      if (!tile) {
        tile = new TileView(model, this.options.onPin, this.options.moderatorActions);
        this.tiles.set(model.key, tile);
      }
      tile.update(model, this.videoFor(model), this.levels.isSpeaking(model.key), moderator);
      // Keep DOM order equal to model order without re-inserting unchanged nodes.
      const expected: Element | null = previous ? previous.nextElementSibling : this.grid.firstElementChild;
      if (expected !== tile.element) this.grid.insertBefore(tile.element, expected);
      previous = tile.element;
    }
  }

  private renderParticipants(state: RoomClient["state"], local: LocalSummary): void {
    const people = buildParticipants(state, local);
    setText(this.participantCount, String(people.length));
    const items = people.map((person) => {
      const flags = [person.microphoneMuted ? "muted" : null, person.cameraOff ? "camera off" : null].filter(Boolean);
      return h(
        "li",
        { "data-participant": person.key, class: person.isSelf ? "self" : null },
        person.name,
        flags.length ? h("span", { class: "participant-flags" }, ` (${flags.join(", ")})`) : null,
      );
    });
    this.participants.replaceChildren(...items);
  }

  private renderAudio(models: readonly TileModel[]): void {
    const state = this.client.state;
    const playing = new Map<string, MediaStreamTrack>();
    for (const endpoint of Object.values(state.endpoints)) {
      for (const track of Object.values(endpoint.tracks)) {
        if (track.metadata.type !== "microphone") continue;
        const media = this.client.remoteTrack(endpoint.id, track.id);
        // Keyed by endpoint and track: two endpoints' track ids never share an element.
        if (media) playing.set(`${endpoint.id}/${track.id}`, media);
      }
    }
    this.sinks.sync(playing);
    // Speaking detection: own microphone and each remote participant's active microphone.
    const watched = new Map<string, MediaStreamTrack | null>();
    watched.set(SELF_CAMERA_KEY, this.client.localTrack("microphone")?.track ?? null);
    for (const model of models) {
      if (model.isSelf || model.kind !== "camera") continue;
      const { endpointId, audioTrackId: trackId } = model;
      const track = endpointId && trackId ? state.endpoints[endpointId]?.tracks[trackId] : undefined;
      const active = track?.metadata.active === true;
      watched.set(model.key, active && endpointId && trackId ? this.client.remoteTrack(endpointId, trackId) : null);
    }
    for (const key of this.watchedKeys) {
      if (!watched.has(key)) this.levels.watch(key, null);
    }
    this.watchedKeys = new Set(watched.keys());
    for (const [key, track] of watched) this.levels.watch(key, track);
  }

  private watchedKeys = new Set<string>();
}
