/** One tile of the grid: a video, a name tag, mic/camera indicators and a pin button. */

import type { TileModel } from "../client/tiles";
import { h, setAttribute, setText } from "./dom";
import { icon } from "./icons";

function initials(label: string): string {
  const words = label.replace(/^You \((.*)\)$/, "$1").split(/\s+/).filter(Boolean);
  return words.slice(0, 2).map((word) => word[0]?.toUpperCase() ?? "").join("") || "?";
}

export class TileView {
  readonly element: HTMLElement;
  private readonly video: HTMLVideoElement;
  private readonly avatar: HTMLElement;
  private readonly label: HTMLElement;
  private readonly micIndicator: HTMLElement;
  private readonly cameraIndicator: HTMLElement;
  private readonly pinButton: HTMLButtonElement;
  private track: MediaStreamTrack | null = null;
  private model: TileModel;

  constructor(model: TileModel, onPin: (key: string) => void) {
    this.model = model;
    this.video = h("video", { autoplay: true, playsinline: true, class: "tile-video" });
    this.video.muted = true; // sound plays through separate <audio> elements
    this.avatar = h("div", { class: "tile-avatar", "aria-hidden": "true" });
    this.label = h("span", { class: "tile-label" });
    this.micIndicator = h("span", { class: "indicator indicator-mic", role: "img" }, icon("microphone", true));
    this.cameraIndicator = h("span", { class: "indicator indicator-camera", role: "img" }, icon("camera", true));
    this.pinButton = h("button", { type: "button", class: "tile-pin" });
    this.pinButton.addEventListener("click", () => onPin(this.model.key));
    this.element = h(
      "figure",
      { class: "tile", "data-tile-key": model.key },
      this.video,
      this.avatar,
      h("figcaption", { class: "tile-caption" }, this.label, this.micIndicator, this.cameraIndicator),
      this.pinButton,
    );
  }

  update(model: TileModel, track: MediaStreamTrack | null, speaking: boolean): void {
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

  destroy(): void {
    this.video.srcObject = null;
    this.element.remove();
  }

  private describe(model: TileModel, speaking: boolean): string {
    const parts = [model.label];
    if (model.kind === "camera" && model.microphoneMuted) parts.push("microphone muted");
    if (model.kind === "camera" && model.cameraOff) parts.push("camera off");
    if (speaking) parts.push("speaking");
    if (model.pinned) parts.push("pinned");
    return parts.join(", ");
  }
}
