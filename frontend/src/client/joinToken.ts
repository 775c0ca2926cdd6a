/**
 * Where the room page finds a signed join token: the page's URL (`#token=`, which never
 * reaches a server's logs or a Referer header, or `?token=`: a link handed out by the host
 * application), else the embedding page (`data-join-token` on #app, set by
 * a host template, or `window.videoroomToken`). A token in the URL is removed from the
 * address bar at once, so it is not bookmarked, shared by copying the address, or kept in
 * the history under the page's name.
 */

export interface TokenSources {
  readonly search: string;
  readonly hash?: string;
  readonly dataset: DOMStringMap;
  readonly global: unknown;
}

/** The token to join with, or "" for none. */
export function findJoinToken(sources: TokenSources): string {
  const fromUrl =
    new URLSearchParams((sources.hash ?? "").replace(/^#/, "")).get("token") ??
    new URLSearchParams(sources.search).get("token");
  if (fromUrl) return fromUrl.trim();
  const fromPage = sources.dataset.joinToken;
  if (fromPage) return fromPage.trim();
  return typeof sources.global === "string" ? sources.global.trim() : "";
}

/** `href` without its `token` (query or fragment; everything else kept), or null if it has none. */
export function withoutToken(href: string): string | null {
  const url = new URL(href);
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ""));
  if (!url.searchParams.has("token") && !fragment.has("token")) return null;
  url.searchParams.delete("token");
  if (fragment.has("token")) {
    fragment.delete("token");
    const rest = fragment.toString();
    url.hash = rest ? `#${rest}` : "";
  }
  return url.toString();
}
