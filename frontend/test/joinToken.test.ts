import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findJoinToken, withoutToken } from "../src/client/joinToken";

describe("join token sources", () => {
  it("prefers the URL, then the page's data attribute, then window.videoroomToken", () => {
    assert.equal(findJoinToken({ search: "?token=from-url", dataset: { joinToken: "d" }, global: "g" }), "from-url");
    assert.equal(findJoinToken({ search: "?relay=1", dataset: { joinToken: "from-data" }, global: "g" }), "from-data");
    assert.equal(findJoinToken({ search: "", dataset: {}, global: "from-global" }), "from-global");
    assert.equal(findJoinToken({ search: "", dataset: {}, global: 42 }), "");
  });

  it("reads #token= before ?token=", () => {
    assert.equal(findJoinToken({ search: "?token=q", hash: "#token=h", dataset: {}, global: null }), "h");
    assert.equal(findJoinToken({ search: "?token=q", hash: "#x=1", dataset: {}, global: null }), "q");
  });

  it("takes the token out of the address, keeping everything else", () => {
    assert.equal(withoutToken("https://h/room/a?token=t.1:x&relay=1#f"), "https://h/room/a?relay=1#f");
    assert.equal(withoutToken("https://h/room/a?token=t"), "https://h/room/a");
    assert.equal(withoutToken("https://h/room/a?relay=1"), null);
    assert.equal(withoutToken("https://h/room/a?relay=1#token=t"), "https://h/room/a?relay=1");
    assert.equal(withoutToken("https://h/room/a#token=t&x=1"), "https://h/room/a#x=1");
  });
});
