/**
 * One visit to a room: local media, the RoomClient, the view and the controls, from join
 * to leave (or to a final error). A new visit (rejoin button) builds a new controller.
 */

import { Socket } from "phoenix";
import { acquireMedia, captureScreen, describeMediaProblems } from "../client/localMedia";
import { type Preferences, relayOnlyRequested } from "../client/preferences";
import { RoomClient } from "../client/roomClient";
import { rejoinAfterMs } from "../client/rejoin";
import { isFinal } from "../client/roomState";
import type { TrackType } from "../protocol/metadata";
import type { ControlActions, Controls } from "../ui/controls";
import { byId, showMessage } from "../ui/dom";
import type { PinPrompt } from "../ui/pinPrompt";
import { RoomView } from "../ui/roomView";
import { ScreenWakeLock } from "../ui/wakeLock";

export interface VisitOptions {
  readonly roomName: string;
  readonly displayName: string;
  /** A signed join token, or "" (rooms/tokens.py). */
  readonly token: string;
  readonly preferences: Preferences;
  readonly controls: Controls;
  /** The page's one PIN form, shared by successive visits as the controls are. */
  readonly pinPrompt: PinPrompt;
  readonly onEnded: (message: string, canRejoin: boolean) => void;
}

type Busy = { microphone: boolean; camera: boolean; screen: boolean };

export class RoomVisit implements ControlActions {
  readonly client: RoomClient;
  /** The phoenix socket, exposed (with the client) on `window.videoroom` for diagnostics. */
  readonly socket: Socket;
  private readonly view: RoomView;
  private readonly controls: Controls;
  private readonly notice = byId("media-notice");
  private readonly busy: Busy = { microphone: false, camera: false, screen: false };
  private readonly wakeLock = new ScreenWakeLock();
  private readonly pinPrompt: PinPrompt;
  private pinnedKey: string | null = null;
  private ended = false;

  constructor(private readonly options: VisitOptions) {
    this.socket = new Socket("/socket", { reconnectAfterMs: reconnectDelayMs, rejoinAfterMs });
    this.client = new RoomClient({
      roomName: options.roomName,
      displayName: options.displayName,
      socket: this.socket,
      relayOnly: relayOnlyRequested(location.search),
      ...(options.token ? { token: options.token } : {}),
      ...(tracing() ? { trace: (direction: "in" | "out", json: string) => console.debug(`[videoroom] ${direction} ${json}`) } : {}),
    });
    this.view = new RoomView(this.client, {
      displayName: options.displayName,
      onPin: (key) => this.togglePin(key),
      moderatorActions: {
        muteTrack: (endpointId, trackId, muted) => this.client.moderateTrack(endpointId, trackId, muted),
        remove: (endpointId) => this.client.removeParticipant(endpointId),
      },
      pinnedKey: () => this.pinnedKey,
    });
    this.controls = options.controls;
    this.pinPrompt = options.pinPrompt;
    this.client.subscribe(() => this.render());
  }

  async start(): Promise<void> {
    const prefs = this.options.preferences;
    this.render();
    const media = await acquireMedia({ audioDeviceId: prefs.audioDeviceId, videoDeviceId: prefs.videoDeviceId });
    if (this.ended) {
      media.audio?.stop();
      media.video?.stop();
      return;
    }
    showMessage(this.notice, describeMediaProblems(media.problems));
    if (media.audio) {
      media.audio.enabled = prefs.audioEnabled;
      this.client.setLocalTrack("microphone", media.audio);
    }
    if (media.video) {
      media.video.enabled = prefs.videoEnabled;
      this.client.setLocalTrack("camera", media.video);
    }
    this.client.join();
    this.wakeLock.acquire();
  }

  toggleMicrophone(): void {
    void this.toggleDevice("microphone");
  }

  toggleCamera(): void {
    void this.toggleDevice("camera");
  }

  toggleScreenShare(): void {
    void this.toggleScreen();
  }

  leave(): void {
    if (this.ended) return;
    this.client.leave();
    this.finish("You left the room.", true);
  }

  private render(): void {
    if (this.ended) return;
    this.view.render();
    this.controls.render(this.view.localSummary(), this.busy);
    const state = this.client.state;
    if (state.status === "needsPin") {
      this.pinPrompt.show(state.message ?? "", (pin) => this.client.joinWithPin(pin));
    } else {
      this.pinPrompt.hide();
    }
    if (isFinal(state.status) && state.status !== "left") {
      // Removed by a moderator: no way back from this page (a rejoin would just undo it).
      this.finish(state.message ?? "You are no longer in the room.", !state.removedByModerator);
    }
  }

  private finish(message: string, canRejoin: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.wakeLock.release();
    this.pinPrompt.hide();
    for (const type of ["microphone", "camera", "screensharing"] as const) {
      this.client.localTrack(type)?.track.stop();
    }
    this.view.destroy();
    this.options.onEnded(message, canRejoin);
  }

  private togglePin(key: string): void {
    this.pinnedKey = this.pinnedKey === key ? null : key;
    this.render();
  }

  /** Mutes/unmutes; without a device (denied or missing at join), tries to get one now. */
  private async toggleDevice(type: "microphone" | "camera"): Promise<void> {
    this.view.resumeAudio();
    const current = this.client.localTrack(type);
    if (current) {
      this.client.setActive(type, !current.active);
      return;
    }
    const busyKey = type === "microphone" ? "microphone" : "camera";
    if (this.busy[busyKey]) return;
    this.busy[busyKey] = true;
    this.render();
    const prefs = this.options.preferences;
    const media = await acquireMedia({
      audio: type === "microphone",
      video: type === "camera",
      audioDeviceId: prefs.audioDeviceId,
      videoDeviceId: prefs.videoDeviceId,
    });
    this.busy[busyKey] = false;
    const track = type === "microphone" ? media.audio : media.video;
    if (this.ended) {
      track?.stop();
      return;
    }
    showMessage(this.notice, describeMediaProblems(media.problems));
    if (track) this.client.setLocalTrack(type, track);
    this.render();
  }

  private async toggleScreen(): Promise<void> {
    const current = this.client.localTrack("screensharing");
    if (current) {
      this.stopLocal("screensharing");
      return;
    }
    if (this.busy.screen) return;
    this.busy.screen = true;
    this.render();
    try {
      const track = await captureScreen();
      if (this.ended) {
        track.stop();
        return;
      }
      // The browser's own "Stop sharing" bar ends the track without going through us.
      track.addEventListener("ended", () => {
        if (this.client.localTrack("screensharing")?.track === track) this.stopLocal("screensharing");
      });
      this.client.setLocalTrack("screensharing", track);
    } catch (error) {
      const cancelled = error instanceof DOMException && error.name === "NotAllowedError";
      if (!cancelled) showMessage(this.notice, "Screen sharing could not start.");
    } finally {
      this.busy.screen = false;
      this.render();
    }
  }

  private stopLocal(type: TrackType): void {
    const current = this.client.localTrack(type);
    this.client.setLocalTrack(type, null);
    current?.track.stop();
  }
}

/** `localStorage["videoroom.trace"] = "1"` logs every media event to the console. */
function tracing(): boolean {
  try {
    return localStorage.getItem("videoroom.trace") === "1";
  } catch {
    return false;
  }
}

/**
 * Socket reconnection backoff: quick first tries, then every 2 s at most (phoenix's default
 * grows to 5 s), so a page finds a restarted web process soon enough to resume its peer
 * well within the room's grace period. The jitter spreads a whole process's sockets.
 */
function reconnectDelayMs(tries: number): number {
  const steps = [10, 50, 100, 250, 500, 1000];
  return steps[tries - 1] ?? 1500 + Math.floor(Math.random() * 500);
}
