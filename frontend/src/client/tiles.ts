/**
 * What the room page shows, derived from the room state and the local tracks: one tile
 * per participant's camera (own first), one per screen share, the pinned one first.
 */

import { type RemoteEndpoint, type RoomState, sortedEndpoints } from "./roomState";

export interface LocalSummary {
  readonly displayName: string;
  readonly hasMicrophone: boolean;
  readonly microphoneActive: boolean;
  readonly hasCamera: boolean;
  readonly cameraActive: boolean;
  readonly sharingScreen: boolean;
}

export type TileKind = "camera" | "screen";

export interface TileModel {
  readonly key: string;
  readonly kind: TileKind;
  readonly isSelf: boolean;
  /** The remote endpoint id; null for own tiles. */
  readonly endpointId: string | null;
  readonly label: string;
  /** Remote track ids to render; null for own tiles (the page uses local tracks). */
  readonly videoTrackId: string | null;
  readonly audioTrackId: string | null;
  readonly microphoneMuted: boolean;
  readonly cameraOff: boolean;
  /** A moderator stopped the microphone / the video of this tile for everyone. */
  readonly microphoneModerated: boolean;
  readonly videoModerated: boolean;
  readonly pinned: boolean;
}

export const SELF_CAMERA_KEY = "camera:self";
export const SELF_SCREEN_KEY = "screen:self";

function endpointTiles(endpoint: RemoteEndpoint): TileModel[] {
  const tracks = Object.values(endpoint.tracks);
  const camera = tracks.find((track) => track.metadata.type === "camera");
  const microphone = tracks.find((track) => track.metadata.type === "microphone");
  const tiles: TileModel[] = [
    {
      key: `camera:${endpoint.id}`,
      kind: "camera",
      isSelf: false,
      endpointId: endpoint.id,
      label: endpoint.displayName,
      videoTrackId: camera?.id ?? null,
      audioTrackId: microphone?.id ?? null,
      microphoneMuted: !microphone || !microphone.metadata.active || microphone.metadata.mutedByModerator === true,
      cameraOff: !camera || !camera.metadata.active || camera.metadata.mutedByModerator === true,
      microphoneModerated: microphone?.metadata.mutedByModerator === true,
      videoModerated: camera?.metadata.mutedByModerator === true,
      pinned: false,
    },
  ];
  for (const track of tracks) {
    if (track.metadata.type !== "screensharing") continue;
    tiles.push({
      key: `screen:${track.id}`,
      kind: "screen",
      isSelf: false,
      endpointId: endpoint.id,
      label: `${endpoint.displayName} (screen)`,
      videoTrackId: track.id,
      audioTrackId: null,
      microphoneMuted: false,
      cameraOff: !track.metadata.active || track.metadata.mutedByModerator === true,
      microphoneModerated: false,
      videoModerated: track.metadata.mutedByModerator === true,
      pinned: false,
    });
  }
  return tiles;
}

export function buildTiles(state: RoomState, local: LocalSummary, pinnedKey: string | null): TileModel[] {
  const tiles: TileModel[] = [
    {
      key: SELF_CAMERA_KEY,
      kind: "camera",
      isSelf: true,
      endpointId: null,
      label: `You (${local.displayName})`,
      videoTrackId: null,
      audioTrackId: null,
      microphoneMuted: !local.hasMicrophone || !local.microphoneActive,
      cameraOff: !local.hasCamera || !local.cameraActive,
      microphoneModerated: false,
      videoModerated: false,
      pinned: false,
    },
  ];
  if (local.sharingScreen) {
    tiles.push({
      key: SELF_SCREEN_KEY,
      kind: "screen",
      isSelf: true,
      endpointId: null,
      label: "Your screen",
      videoTrackId: null,
      audioTrackId: null,
      microphoneMuted: false,
      cameraOff: false,
      microphoneModerated: false,
      videoModerated: false,
      pinned: false,
    });
  }
  for (const endpoint of sortedEndpoints(state)) tiles.push(...endpointTiles(endpoint));
  const pinned = tiles.find((tile) => tile.key === pinnedKey);
  if (!pinned) return tiles;
  return [{ ...pinned, pinned: true }, ...tiles.filter((tile) => tile !== pinned)];
}

export interface ParticipantModel {
  readonly key: string;
  readonly name: string;
  readonly isSelf: boolean;
  readonly microphoneMuted: boolean;
  readonly cameraOff: boolean;
}

/** The participants list: yourself first, then the others by name. */
export function buildParticipants(state: RoomState, local: LocalSummary): ParticipantModel[] {
  const tiles = buildTiles(state, local, null).filter((tile) => tile.kind === "camera");
  return tiles.map((tile) => ({
    key: tile.key,
    name: tile.isSelf ? `${local.displayName} (you)` : tile.label,
    isSelf: tile.isSelf,
    microphoneMuted: tile.microphoneMuted,
    cameraOff: tile.cameraOff,
  }));
}

/** Grid columns for a tile count: 1, 2, 3 or 4 (as the Membrane videoroom does). */
export function gridColumns(count: number): number {
  if (count <= 1) return 1;
  if (count <= 4) return 2;
  if (count <= 9) return 3;
  return 4;
}
