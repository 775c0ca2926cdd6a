/**
 * Camera, microphone and screen capture, degrading to what is available: both, audio
 * only, video only, or nothing (watch only), with a reason a person understands.
 */

export type MediaProblem = "permission-denied" | "no-device" | "device-busy" | "unsupported" | "unknown";

export interface DevicePreferences {
  readonly audioDeviceId?: string | null;
  readonly videoDeviceId?: string | null;
  readonly audio?: boolean;
  readonly video?: boolean;
}

export interface AcquiredMedia {
  readonly audio: MediaStreamTrack | null;
  readonly video: MediaStreamTrack | null;
  readonly problems: { readonly audio: MediaProblem | null; readonly video: MediaProblem | null };
}

/** The subset of `navigator.mediaDevices` used here, so tests can fake it. */
export interface MediaDevicesLike {
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
}

export function classifyMediaError(error: unknown): MediaProblem {
  const name = error instanceof Error || (typeof error === "object" && error !== null && "name" in error)
    ? String((error as { name: unknown }).name)
    : "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
    case "PermissionDeniedError":
      return "permission-denied";
    case "NotFoundError":
    case "OverconstrainedError":
    case "DevicesNotFoundError":
      return "no-device";
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return "device-busy";
    case "TypeError":
      return "unsupported";
    default:
      return "unknown";
  }
}

const PROBLEM_TEXT: Record<MediaProblem, string> = {
  "permission-denied": "access was denied. Allow it in the browser's site settings and reload to use it",
  "no-device": "no device was found",
  "device-busy": "the device is in use by another application or could not be started",
  unsupported: "this browser cannot capture media here (a secure https:// or localhost address is needed)",
  unknown: "it could not be started",
};

/** One sentence about what failed and what the person can still do, or null if all is well. */
export function describeMediaProblems(problems: AcquiredMedia["problems"]): string | null {
  const { audio, video } = problems;
  if (!audio && !video) return null;
  if (audio && video && audio === video) {
    return `Camera and microphone: ${PROBLEM_TEXT[audio]}. You can still join to watch and listen.`;
  }
  const parts: string[] = [];
  if (video) parts.push(`Camera: ${PROBLEM_TEXT[video]}.`);
  if (audio) parts.push(`Microphone: ${PROBLEM_TEXT[audio]}.`);
  if (audio && video) parts.push("You can still join to watch and listen.");
  else if (video) parts.push("You can join with audio only.");
  else parts.push("You can join with video only; others will not hear you.");
  return parts.join(" ");
}

function audioConstraints(prefs: DevicePreferences): MediaTrackConstraints {
  return {
    ...(prefs.audioDeviceId ? { deviceId: { exact: prefs.audioDeviceId } } : {}),
    echoCancellation: true,
    noiseSuppression: true,
    autoGainControl: true,
  };
}

function videoConstraints(prefs: DevicePreferences): MediaTrackConstraints {
  return {
    ...(prefs.videoDeviceId ? { deviceId: { exact: prefs.videoDeviceId } } : {}),
    width: { ideal: 640 },
    height: { ideal: 480 },
    frameRate: { ideal: 24, max: 30 },
  };
}

async function tryCapture(
  devices: MediaDevicesLike,
  constraints: MediaStreamConstraints,
): Promise<{ stream: MediaStream } | { problem: MediaProblem }> {
  try {
    return { stream: await devices.getUserMedia(constraints) };
  } catch (error) {
    return { problem: classifyMediaError(error) };
  }
}

/**
 * Asks for camera and microphone together (one permission prompt), then for each alone if
 * that fails, so a missing or blocked device costs only that device. A device the
 * preferences turn off is not requested at all.
 */
export async function acquireMedia(
  prefs: DevicePreferences,
  devices: MediaDevicesLike | undefined = globalThis.navigator?.mediaDevices,
): Promise<AcquiredMedia> {
  const wantAudio = prefs.audio ?? true;
  const wantVideo = prefs.video ?? true;
  if (!devices || typeof devices.getUserMedia !== "function") {
    return {
      audio: null,
      video: null,
      problems: { audio: wantAudio ? "unsupported" : null, video: wantVideo ? "unsupported" : null },
    };
  }
  if (!wantAudio && !wantVideo) return { audio: null, video: null, problems: { audio: null, video: null } };
  if (wantAudio && wantVideo) {
    const both = await tryCapture(devices, { audio: audioConstraints(prefs), video: videoConstraints(prefs) });
    if ("stream" in both) {
      return {
        audio: both.stream.getAudioTracks()[0] ?? null,
        video: both.stream.getVideoTracks()[0] ?? null,
        problems: { audio: null, video: null },
      };
    }
  }
  let audio: MediaStreamTrack | null = null;
  let video: MediaStreamTrack | null = null;
  let audioProblem: MediaProblem | null = null;
  let videoProblem: MediaProblem | null = null;
  if (wantAudio) {
    const result = await tryCapture(devices, { audio: audioConstraints(prefs) });
    if ("stream" in result) audio = result.stream.getAudioTracks()[0] ?? null;
    else audioProblem = result.problem;
  }
  if (wantVideo) {
    const result = await tryCapture(devices, { video: videoConstraints(prefs) });
    if ("stream" in result) video = result.stream.getVideoTracks()[0] ?? null;
    else videoProblem = result.problem;
  }
  return { audio, video, problems: { audio: audioProblem, video: videoProblem } };
}

export async function captureScreen(): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getDisplayMedia({
    video: { frameRate: { ideal: 10, max: 15 } },
    audio: false,
  });
  const track = stream.getVideoTracks()[0];
  if (!track) throw new Error("no screen track");
  return track;
}

export interface DeviceChoice {
  readonly deviceId: string;
  readonly label: string;
}

export async function listDevices(kind: "audioinput" | "videoinput"): Promise<DeviceChoice[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const all = await navigator.mediaDevices.enumerateDevices();
  return all
    .filter((device) => device.kind === kind && device.deviceId !== "")
    .map((device, i) => ({
      deviceId: device.deviceId,
      label: device.label || `${kind === "audioinput" ? "Microphone" : "Camera"} ${i + 1}`,
    }));
}
