/**
 * The tracks this client sends, at most one per type, and the ids they are published under
 * in the current session (ids change with every new server-side peer).
 */

import type { TrackMetadata, TrackType } from "../protocol/metadata";
import { makeTrackId } from "./negotiation";
import type { PublishedTrack } from "./peerSession";

export interface LocalTrack {
  readonly type: TrackType;
  readonly track: MediaStreamTrack;
  readonly stream: MediaStream;
  readonly active: boolean;
}

interface Entry {
  readonly track: MediaStreamTrack;
  readonly stream: MediaStream;
  active: boolean;
  /** Id under the current session, null while unpublished. */
  trackId: string | null;
}

export class LocalTracks {
  private readonly entries = new Map<TrackType, Entry>();

  get(type: TrackType): LocalTrack | null {
    const entry = this.entries.get(type);
    return entry ? { type, track: entry.track, stream: entry.stream, active: entry.active } : null;
  }

  /**
   * Makes `track` the one of `type` (null removes it). Returns whether anything changed and
   * the id the replaced track was published under, which the caller unpublishes.
   */
  replace(
    type: TrackType,
    track: MediaStreamTrack | null,
    stream: () => MediaStream,
  ): { changed: boolean; unpublishId: string | null } {
    const previous = this.entries.get(type);
    if ((previous?.track ?? null) === track) return { changed: false, unpublishId: null };
    this.entries.delete(type);
    if (track) this.entries.set(type, { track, stream: stream(), active: track.enabled, trackId: null });
    return { changed: true, unpublishId: previous?.trackId ?? null };
  }

  /** Mutes or unmutes; returns the published id and new metadata, or null without a track. */
  setActive(type: TrackType, active: boolean): { trackId: string | null; metadata: TrackMetadata } | null {
    const entry = this.entries.get(type);
    if (!entry) return null;
    entry.active = active;
    entry.track.enabled = active;
    return { trackId: entry.trackId, metadata: { type, active } };
  }

  /** Gives every unpublished track an id under `endpointId`; returns them for publishing. */
  assignIds(endpointId: string, newId: () => string): PublishedTrack[] {
    const published: PublishedTrack[] = [];
    for (const [type, entry] of this.entries) {
      if (entry.trackId !== null) continue;
      entry.trackId = makeTrackId(endpointId, newId());
      published.push({
        trackId: entry.trackId,
        track: entry.track,
        stream: entry.stream,
        metadata: { type, active: entry.active },
      });
    }
    return published;
  }

  /** The session is gone: nothing is published any more. */
  forgetIds(): void {
    for (const entry of this.entries.values()) entry.trackId = null;
  }
}
