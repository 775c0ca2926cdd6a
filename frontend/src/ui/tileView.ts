/**
 * One tile of the grid: a video, a name tag, mic/camera indicators, a pin button, and for a
 * moderator the controls that mute another participant's microphone or video for everyone
 * or remove them. A "muted by moderator" badge shows on the tile for everyone.
 */

import type { TileModel } from "../client/tiles";
import { h, setAttribute, setText } from "./dom";
import { icon } from "./icons";

function initials(label: string): string {
  const words = label.replace(/^You \((.*)\)$/, "$1").split(/\s+/).filter(Boolean);
  return words.slice(0, 2).map((word) => word[0]?.toUpperCase() ?? "").join("") || "?";
}

/** What a moderator's buttons do; the server checks the grant again. */
export interface ModeratorActions {
  readonly muteTrack: (endpointId: string, trackId: string, muted: boolean) => void;
  readonly remove: (endpointId: string) => void;
}

export class TileView {
  readonly element: HTMLElement;
  private readonly video: HTMLVideoElement;
  private readonly avatar: HTMLElement;
  private readonly label: HTMLElement;
  private readonly micIndicator: HTMLElement;
  private readonly cameraIndicator: HTMLElement;
  private readonly pinButton: HTMLButtonElement;
  private readonly moderatedBadge: HTMLElement;
  private readonly moderation: HTMLElement;
  private readonly muteMicButton: HTMLButtonElement;
  private readonly muteVideoButton: HTMLButtonElement;
  private readonly removeButton: HTMLButtonElement;
  private track: MediaStreamTrack | null = null;
  private model: TileModel;

  constructor(model: TileModel, onPin: (key: string) => void, actions: ModeratorActions) {
    this.model = model;
    this.video = h("video", { autoplay: true, playsinline: true, class: "tile-video" });
    this.video.muted = true; // sound plays through separate <audio> elements
    this.avatar = h("div", { class: "tile-avatar", "aria-hidden": "true" });
    this.label = h("span", { class: "tile-label" });
    this.micIndicator = h("span", { class: "indicator indicator-mic", role: "img" }, icon("microphone", true));
    this.cameraIndicator = h("span", { class: "indicator indicator-camera", role: "img" }, icon("camera", true));
    this.pinButton = h("button", { type: "button", class: "tile-pin" });
    this.pinButton.addEventListener("click", () => onPin(this.model.key));
    this.moderatedBadge = h("span", { class: "tile-moderated" });
    this.muteMicButton = h("button", { type: "button", "data-action": "moderate-microphone" });
    this.muteMicButton.addEventListener("click", () => {
      const { endpointId, audioTrackId } = this.model;
      if (endpointId && audioTrackId) actions.muteTrack(endpointId, audioTrackId, !this.model.microphoneModerated);
    });
    this.muteVideoButton = h("button", { type: "button", "data-action": "moderate-video" });
    this.muteVideoButton.addEventListener("click", () => {
      const { endpointId, videoTrackId } = this.model;
      if (endpointId && videoTrackId) actions.muteTrack(endpointId, videoTrackId, !this.model.videoModerated);
    });
    this.removeButton = h("button", { type: "button", "data-action": "remove-participant" }, "Remove");
    this.removeButton.addEventListener("click", () => {
      if (this.model.endpointId) actions.remove(this.model.endpointId);
    });
    this.moderation = h(
      "div",
      { class: "tile-moderation", role: "group" },
      this.muteMicButton,
      this.muteVideoButton,
      this.removeButton,
    );
    this.element = h(
      "figure",
      { class: "tile", "data-tile-key": model.key },
      this.video,
      this.avatar,
      h(
        "figcaption",
        { class: "tile-caption" },
        this.label,
        this.micIndicator,
        this.cameraIndicator,
        this.moderatedBadge,
      ),
      this.pinButton,
      this.moderation,
    );
  }

  update(model: TileModel, track: MediaStreamTrack | null, speaking: boolean, moderator: boolean): void {
    this.model = model;
    const element = this.element;
    element.classList.toggle("tile-self", model.isSelf);
    element.classList.toggle("tile-screen", model.kind === "screen");
    element.classList.toggle("mirrored", model.isSelf && model.kind === "camera");
    element.classList.toggle("pinned", model.pinned);
    element.classList.toggle("speaking", speaking);
    setAttribute(element, "data-kind", model.kind);
    setAttribute(element, "data-self", model.isSelf ? "true" : "false");
    setAttribute(element, "data-endpoint-id", model.endpointId);
    setAttribute(element, "data-mic-muted", model.kind === "camera" && model.microphoneMuted ? "true" : "false");
    setAttribute(element, "data-camera-off", model.cameraOff ? "true" : "false");
    setAttribute(element, "data-speaking", speaking ? "true" : "false");
    setAttribute(element, "aria-label", this.describe(model, speaking));

    setText(this.label, model.label);
    setText(this.avatar, initials(model.label));
    this.micIndicator.hidden = !(model.kind === "camera" && model.microphoneMuted);
    setAttribute(this.micIndicator, "aria-label", "microphone muted");
    this.cameraIndicator.hidden = !(model.kind === "camera" && model.cameraOff);
    setAttribute(this.cameraIndicator, "aria-label", "camera off");

    this.renderModeration(model, moderator);

    setText(this.pinButton, model.pinned ? "Unpin" : "Pin");
    setAttribute(this.pinButton, "aria-pressed", model.pinned ? "true" : "false");
    setAttribute(this.pinButton, "aria-label", `${model.pinned ? "Unpin" : "Pin"} ${model.label}`);

    const showVideo = track !== null && !model.cameraOff;
    element.classList.toggle("no-video", !showVideo);
    if (track !== this.track) {
      this.track = track;
      this.video.srcObject = track ? new MediaStream([track]) : null;
      if (track) void this.video.play().catch(() => undefined);
    }
  }

  private renderModeration(model: TileModel, moderator: boolean): void {
    const element = this.element;
    setAttribute(element, "data-mic-moderated", model.microphoneModerated ? "true" : "false");
    setAttribute(element, "data-video-moderated", model.videoModerated ? "true" : "false");
    const what = [model.microphoneModerated ? "microphone" : null, model.videoModerated ? "video" : null].filter(
      (part) => part !== null,
    );
    this.moderatedBadge.hidden = what.length === 0;
    setText(this.moderatedBadge, what.length ? `${what.join(" and ")} muted by a moderator` : "");

    this.moderation.hidden = !moderator || model.isSelf || model.endpointId === null;
    setAttribute(this.moderation, "aria-label", `Moderate ${model.label}`);
    const camera = model.kind === "camera";
    this.muteMicButton.hidden = !camera || model.audioTrackId === null;
    setText(this.muteMicButton, model.microphoneModerated ? "Unmute microphone" : "Mute microphone");
    setAttribute(this.muteMicButton, "aria-label", `${this.muteMicButton.textContent} of ${model.label}`);
    this.muteVideoButton.hidden = model.videoTrackId === null;
    const video = camera ? "camera" : "screen";
    setText(this.muteVideoButton, `${model.videoModerated ? "Unmute" : "Mute"} ${video}`);
    setAttribute(this.muteVideoButton, "aria-label", `${this.muteVideoButton.textContent} of ${model.label}`);
    this.removeButton.hidden = !camera;
    setAttribute(this.removeButton, "aria-label", `Remove ${model.label} from the room`);
  }

  destroy(): void {
    this.video.srcObject = null;
    this.element.remove();
  }

  private describe(model: TileModel, speaking: boolean): string {
    const parts = [model.label];
    if (model.kind === "camera" && model.microphoneMuted) parts.push("microphone muted");
    if (model.kind === "camera" && model.cameraOff) parts.push("camera off");
    if (model.microphoneModerated || model.videoModerated) parts.push("muted by a moderator");
    if (speaking) parts.push("speaking");
    if (model.pinned) parts.push("pinned");
    return parts.join(", ");
  }
}
