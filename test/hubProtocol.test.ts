/**
 * The hub client against a stand-in (test/support/fakeHub.ts) that answers like the real hub.
 * What the stand-in does, and how we know the real hub does it:
 *
 *  1. HEAD/GET /{repo}/resolve/{rev}/{git file} -> 307 with a *relative* Location
 *     /api/resolve-cache/models/{repo}/{commit}/{file}?{path}=&etag="…", Content-Type text/plain, and a
 *     Content-Length that is len("Temporary Redirect. Redirecting to " + Location), not the file's.
 *     documented: https://github.com/huggingface/huggingface_hub/issues/4698 (curl -sI …/config.json: a 307
 *     "with only Location and a small Content-Length"), https://github.com/huggingface/huggingface_hub/issues/4741
 *     ("307 to /api/resolve-cache/..., which the client follows"), https://github.com/huggingface/hf-hub/pull/191;
 *     a public curl log (found by code search) of Qwen/Qwen3-32B's config.json: 307, content-length 232 =
 *     35 + the 197-character Location, which has the ?…=&etag=%22…%22 query.
 *  2. Whether that 307 also carries X-Repo-Commit / ETag: guess either way (both are tested: faults.metaOnRedirect).
 *  3. /api/resolve-cache/… answers the file with X-Repo-Commit, ETag "<git blob sha1>", Content-Length, Range.
 *     documented: huggingface_hub file_download.py get_hf_file_metadata reads all three off the followed answer
 *     (src/huggingface_hub/file_download.py, _httpx_follow_relative_redirects_with_backoff in utils/_http.py);
 *     public HTTP logs show "HEAD /api/resolve-cache/models/… 200 OK". A 400 for a non-sha revision there: guess
 *     (one third-party observation).
 *  4. LFS files: 302 to another origin (cas-bridge.xethub.hf.co / cdn-lfs.hf.co) with X-Repo-Commit,
 *     X-Linked-Etag "<sha256>", X-Linked-Size; ETag is the pointer's, not the file's.
 *     documented: huggingface_hub constants.py + get_hf_file_metadata (prefers X-Linked-Etag / X-Linked-Size,
 *     does not follow absolute redirects); https://github.com/huggingface/xet-core spec/file_id.md ("The resolve
 *     URL will return a 302"). The 302's "Found. Redirecting to …" body: guess (Express, like the 307's).
 *  5. The CDN URL is signed and expires: X-Amz-Date + X-Amz-Expires=3600 + X-Amz-Signature; past expiry the CDN
 *     answers 403 AccessDenied "Request has expired". documented: real cas-bridge URLs in public logs carry
 *     X-Amz-Expires=3600; S3's expired-URL answer (https://github.com/expo/xde/issues/128). That a fresh HEAD
 *     gives a fresh URL: documented (each 302 is newly signed; huggingface_hub re-HEADs on every call).
 *  6. The CDN must not get the hub token; it refuses a request that has one (400 "Only one auth mechanism
 *     allowed"). documented: huggingface_hub drops Authorization cross-host (PR #1269, #1345,
 *     _get_metadata_or_catch_error), https://github.com/huggingface/hf_transfer/pull/42; the 400 text is S3's
 *     (https://github.com/r-lib/httr/issues/626). That cas-bridge answers exactly this: guess.
 *  7. The CDN has its own ETag (a different 64-hex value) and Content-Disposition: attachment; filename=….
 *     documented: third-party report https://github.com/nullata/llamaMan/issues/70; huggingface_hub http_get
 *     reads Content-Disposition ("Means file is on CDN").
 *  8. Text (json, txt, md) of 1 kB–10 MB asked with Accept-Encoding: gzip comes gzip + chunked (no
 *     Content-Length), with a weak ETag, and ignores Range (200, whole file). documented: huggingface_hub
 *     http_get ("Hub serves compressible text files … with Content-Encoding: gzip and Transfer-Encoding:
 *     chunked"), PR #3778 ("CloudFront with Accept-Encoding: gzip ignore the Range header and return 200");
 *     huggingface.js packages/hub/src/utils/WebBlob.ts (gzip loses Content-Length; the "strong ETag" survives
 *     only uncompressed); CloudFront's 1,000–10,000,000-byte rule and strong->weak ETag conversion:
 *     https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/ServingCompressedFiles.html.
 *     HEAD with Accept-Encoding: identity gets the real Content-Length: documented (huggingface_hub PR #1449).
 *     Gzip even when identity was asked (faults.forceGzip) and weak ETags on HEAD (faults.weakEtags): guess.
 *  9. Errors: X-Error-Code + X-Error-Message headers. RepoNotFound 401 without a token, 404 with one;
 *     RevisionNotFound 404; EntryNotFound 404 (with X-Repo-Commit); GatedRepo 401 without a token, 403 with a
 *     token that has no access. documented: huggingface_hub utils/_http.py hf_raise_for_status and
 *     tests/test_utils_errors.py; https://github.com/huggingface/transformers/pull/17651 (401 for missing repos
 *     when unauthenticated); GatedRepoError 401 / 403 texts in public reports (e.g.
 *     https://github.com/kubeai-project/kubeai/issues/155). The exact X-Error-Message wording: partly guess.
 * 10. /api/models/{repo}/revision/{rev} lists siblings + sha, with an Express-style weak ETag, and is public
 *     for gated repos. documented: huggingface_hub repo_info; https://github.com/huggingface/huggingface.js/issues/945
 *     (gated files can be listed without access); the weak ETag from a public curl log of /api/models/….
 */
import { test, describe, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { AddressInfo } from "node:net";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { HubClient } from "../src/host/hub/hubClient";
import { prepareHubModel } from "../src/host/hub/prepareHubModel";
import { hubModel } from "../src/host/hub/knownModels";
import { HeadLensError } from "../src/core/errors";
import { FakeHub, startFakeHub } from "./support/fakeHub";
import { REPO_ROOT, tempDir } from "./support/engine";

const FIXTURES = join(REPO_ROOT, "test", "fixtures", "hub");
const TINY = "NeelNanda/Attn_Only_Tiny_C4_Code";
const TWO = "NeelNanda/Attn_Only_2L512W_C4_Code";
const TOKENIZER = "NeelNanda/gpt-neox-tokenizer-digits";
const TOKEN = "hf_good_token";
const fixture = (repo: string, file: string) => readFileSync(join(FIXTURES, repo, file));
let hub: FakeHub;
before(async () => {
  hub = await startFakeHub(FIXTURES, TOKEN, { [TWO]: TINY, "NeelNanda/Attn_Only_1L512W_C4_Code": TINY });
});
after(() => hub.close());
afterEach(() => {
  Object.assign(hub.faults, { cutShort: 0, corrupt: 0, expireNext: 0, forceGzip: false, metaOnRedirect: false, weakEtags: false });
  hub.faults.gated.clear();
  hub.requests.length = 0;
});
const client = (extra: Partial<ConstructorParameters<typeof HubClient>[0]> = {}) =>
  new HubClient({ endpoint: hub.url, cacheDir: tempDir(), ...extra });
const blobsOf = (c: HubClient, repo: string) => readdirSync(join(c.repoDir(repo), "blobs"));
const code = (re: RegExp) => (e: unknown) => e instanceof HeadLensError && re.test(e.code);

describe("the stand-in answers like the hub", () => {
  test("a git file's HEAD is a relative 307 whose Content-Length is its own text; resolve-cache has the file's", async () => {
    const head = await fetch(`${hub.url}/${TWO}/resolve/main/config.json`, { method: "HEAD", redirect: "manual" });
    assert.equal(head.status, 307);
    const location = head.headers.get("location")!;
    assert.match(
      location,
      new RegExp(`^/api/resolve-cache/models/${TWO}/${hub.commitOf(TWO)}/config\\.json\\?.*&etag=%22[0-9a-f]{40}%22$`),
    );
    assert.equal(Number(head.headers.get("content-length")), `Temporary Redirect. Redirecting to ${location}`.length);
    assert.equal(head.headers.get("x-repo-commit"), null);
    const target = await fetch(new URL(location, hub.url), { method: "HEAD", headers: { "Accept-Encoding": "identity" } });
    assert.equal(Number(target.headers.get("content-length")), fixture(TINY, "config.json").length);
    assert.equal(target.headers.get("x-repo-commit"), hub.commitOf(TWO));
    const byMain = await fetch(`${hub.url}/api/resolve-cache/models/${TWO}/main/config.json`);
    assert.equal(byMain.status, 400);
  });

  test("an LFS file's HEAD is a cross-origin 302 to a signed URL; the CDN refuses tokens and expired links", async () => {
    const head = await fetch(`${hub.url}/${TWO}/resolve/main/model_final.pth`, { method: "HEAD", redirect: "manual" });
    assert.equal(head.status, 302);
    const cdn = new URL(head.headers.get("location")!);
    assert.equal(cdn.origin, hub.cdnUrl);
    assert.equal(cdn.searchParams.get("X-Amz-Expires"), "3600");
    assert.equal(head.headers.get("x-linked-size"), String(fixture(TINY, "model_final.pth").length));
    assert.notEqual(head.headers.get("etag"), head.headers.get("x-linked-etag"));
    assert.equal((await fetch(cdn, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 400);
    const ok = await fetch(cdn);
    assert.equal(ok.status, 200);
    assert.notEqual(ok.headers.get("etag"), head.headers.get("x-linked-etag"), "the CDN's ETag is not the sha256");
    cdn.searchParams.set("X-Amz-Expires", "7200");
    assert.equal((await fetch(cdn)).status, 403, "the signature covers the expiry");
  });

  test("compressible text is gzip + chunked with a weak ETag and ignores Range; identity is honoured", async () => {
    const url = `${hub.url}/api/resolve-cache/models/${TOKENIZER}/${hub.commitOf(TOKENIZER)}/tokenizer.json`;
    const gz = await fetch(url, { headers: { "Accept-Encoding": "gzip", Range: "bytes=10-" } });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers.get("content-encoding"), "gzip");
    assert.equal(gz.headers.get("content-length"), null);
    assert.match(gz.headers.get("etag")!, /^W\/"[0-9a-f]{40}"$/);
    assert.deepEqual(Buffer.from(await gz.arrayBuffer()), fixture(TOKENIZER, "tokenizer.json"));
    const plain = await fetch(url, { headers: { "Accept-Encoding": "identity", Range: "bytes=10-" } });
    assert.equal(plain.status, 206);
    assert.equal(plain.headers.get("content-encoding"), null);
    await plain.body?.cancel();
  });
});

describe("downloads against the stand-in", () => {
  for (const metaOnRedirect of [false, true]) {
    test(`config.json behind the relative 307 downloads with the file's size (307 carries commit/etag: ${metaOnRedirect})`, async () => {
      // The issue: the old client took the 307's Content-Length (272) as the size: "ended after 363 of 272 bytes".
      hub.faults.metaOnRedirect = metaOnRedirect;
      const c = client();
      const path = await c.download(TWO, "main", "config.json");
      assert.deepEqual(readFileSync(path), fixture(TINY, "config.json"));
      assert.equal(await c.fileSize(TWO, "main", "config.json"), fixture(TINY, "config.json").length);
      const heads = hub.requests.filter((r) => r.method === "HEAD").map((r) => `${r.status} ${r.path}`);
      assert.deepEqual(heads.slice(0, 2), [
        `307 /${TWO}/resolve/main/config.json`,
        `200 /api/resolve-cache/models/${TWO}/${hub.commitOf(TWO)}/config.json`,
      ]);
    });
  }

  for (const name of ["attn-only-1l", "attn-only-2l"]) {
    test(`${name} downloads and converts from the stand-in`, async () => {
      const spec = hubModel(name)!;
      const progress: number[] = [];
      const dir = await prepareHubModel(spec, client(), tempDir(), { onProgress: (p) => progress.push(p.received / p.total) });
      assert.ok(["config.json", "model.safetensors", "tokenizer.json"].every((f) => existsSync(join(dir, f))));
      assert.equal(progress[progress.length - 1], 1);
    });
  }

  test("the token goes to the hub and never to the CDN", async () => {
    const c = client({ token: TOKEN });
    await c.download(TWO, "main", "model_final.pth");
    const cdn = hub.requests.filter((r) => r.host === "cdn");
    assert.ok(cdn.length > 0 && cdn.every((r) => r.authorization === undefined && r.status === 200));
    assert.ok(hub.requests.filter((r) => r.host === "hub").every((r) => r.authorization === `Bearer ${TOKEN}`));
  });

  test("a cut on the CDN resumes with Range from where it stopped", async () => {
    const c = client({ token: TOKEN });
    hub.faults.cutShort = 1;
    await assert.rejects(c.download(TWO, "main", "model_final.pth"), code(/^hub\.interrupted$/));
    assert.ok(
      blobsOf(c, TWO).some((f) => f.endsWith(".incomplete")),
      "the partial download is kept",
    );
    const path = await c.download(TWO, "main", "model_final.pth");
    assert.deepEqual(readFileSync(path), fixture(TINY, "model_final.pth"));
    assert.ok(hub.requests.some((r) => r.host === "cdn" && /^bytes=[1-9]\d*-$/.test(r.range ?? "") && r.status === 206));
  });

  test("corrupt CDN bytes are refused and deleted; the next try is clean", async () => {
    const c = client();
    hub.faults.corrupt = 1;
    await assert.rejects(c.download(TWO, "main", "model_final.pth"), /corrupt .*it was deleted/);
    assert.deepEqual(blobsOf(c, TWO), []);
    assert.equal(c.cachedFile(TWO, "main", "model_final.pth"), undefined);
    assert.deepEqual(readFileSync(await c.download(TWO, "main", "model_final.pth")), fixture(TINY, "model_final.pth"));
  });

  test("corrupt gzip text is refused by its git blob sha1", async () => {
    const c = client();
    Object.assign(hub.faults, { forceGzip: true, corrupt: 1 });
    await assert.rejects(c.download(TOKENIZER, "main", "tokenizer.json"), code(/^hub\.integrity$/));
    assert.deepEqual(blobsOf(c, TOKENIZER), []);
  });

  test("gzip text that ignores Range restarts cleanly after a cut, verified on the decoded bytes", async () => {
    const c = client();
    const body = fixture(TOKENIZER, "tokenizer.json");
    Object.assign(hub.faults, { forceGzip: true, cutShort: 1 });
    await assert.rejects(c.download(TOKENIZER, "main", "tokenizer.json"), code(/^hub\.interrupted$/));
    // Whatever the cut left (zlib may have held it back), a partial file from an earlier try is resumed with Range:
    const blobs = join(c.repoDir(TOKENIZER), "blobs");
    mkdirSync(blobs, { recursive: true });
    const etag = createHash("sha1").update(`blob ${body.length}\0`).update(body).digest("hex");
    writeFileSync(join(blobs, `${etag}.incomplete`), body.subarray(0, 1000));
    const seen: number[] = [];
    const path = await c.download(TOKENIZER, "main", "tokenizer.json", { onProgress: (p) => seen.push(p.received) });
    assert.deepEqual(readFileSync(path), body);
    assert.equal(seen[seen.length - 1], body.length);
    const gets = hub.requests.filter((r) => r.method === "GET" && r.path.includes("resolve-cache"));
    assert.ok(
      gets.every((r) => /identity/.test(r.acceptEncoding ?? "")),
      "asked for identity",
    );
    assert.ok(
      gets.some((r) => r.range === "bytes=1000-" && r.status === 200),
      "the server ignored Range and the client started over",
    );
  });

  test("weak ETags are read as the git sha1 they wrap", async () => {
    hub.faults.weakEtags = true;
    const c = client();
    await c.download(TINY, "main", "config.json");
    assert.ok(blobsOf(c, TINY).some((f) => /^[0-9a-f]{40}$/.test(f)));
  });

  test("an expired signed URL is replaced by a fresh HEAD", async () => {
    hub.faults.expireNext = 1;
    const c = client();
    assert.deepEqual(readFileSync(await c.download(TWO, "main", "model_final.pth")), fixture(TINY, "model_final.pth"));
    const statuses = hub.requests.filter((r) => r.host === "cdn").map((r) => r.status);
    assert.deepEqual(statuses, [403, 200]);
  });

  test("cancel stops the download, keeps the bytes, and the next call resumes", async () => {
    const c = client();
    const ac = new AbortController();
    await assert.rejects(
      c.download(TWO, "main", "model_final.pth", { signal: ac.signal, onProgress: () => ac.abort() }),
      code(/^cancelled$/),
    );
    assert.ok(blobsOf(c, TWO).some((f) => f.endsWith(".incomplete")));
    assert.deepEqual(readFileSync(await c.download(TWO, "main", "model_final.pth")), fixture(TINY, "model_final.pth"));
  });
});

describe("hub errors say what happened and what to do", () => {
  test("RepoNotFound: 401 without a token (maybe private), 404 with one", async () => {
    await assert.rejects(
      client().listFiles("NeelNanda/No_Such_Model", "main"),
      /repository NeelNanda\/No_Such_Model not found .*private, set HF_TOKEN.*HTTP 401/,
    );
    await assert.rejects(
      client({ token: TOKEN }).download("NeelNanda/No_Such_Model", "main", "config.json"),
      (e: HeadLensError) =>
        e.code === "hub.http.RepoNotFound" && /not found/.test(e.message) && !/private/.test(e.message) && /HTTP 404/.test(e.message),
    );
  });

  test("RevisionNotFound and EntryNotFound name the revision and the file", async () => {
    await assert.rejects(client().download(TINY, "no-such-branch", "config.json"), /has no revision "no-such-branch".*HTTP 404/);
    await assert.rejects(client().listFiles(TINY, "no-such-branch"), code(/^hub\.http\.RevisionNotFound$/));
    await assert.rejects(
      client().download(TINY, "main", "missing.json"),
      /NeelNanda\/Attn_Only_Tiny_C4_Code@main has no file "missing\.json"/,
    );
  });

  test("GatedRepo: listing is public; 401 asks to accept the terms and set a token, 403 says the token has no access yet", async () => {
    hub.faults.gated.add(TINY);
    assert.ok((await client().listFiles(TINY, "main")).includes("config.json"));
    await assert.rejects(
      client().download(TINY, "main", "config.json"),
      (e: HeadLensError) =>
        e.code === "hub.http.GatedRepo" &&
        /is gated: accept its terms at http:\/\/127\.0\.0\.1:\d+\/NeelNanda\/Attn_Only_Tiny_C4_Code .*HF_TOKEN/.test(e.message),
    );
    await assert.rejects(
      client({ token: "hf_other" }).download(TINY, "main", "config.json"),
      /no access to it yet: accept its terms.*HTTP 403/,
    );
    assert.ok(existsSync(await client({ token: TOKEN }).download(TINY, "main", "config.json")));
  });

  test("a redirect loop ends after a bounded number of hops", async () => {
    const loop = createServer((req, res) => res.writeHead(307, { Location: req.url! }).end());
    await new Promise<void>((r) => loop.listen(0, "127.0.0.1", () => r()));
    try {
      const c = new HubClient({ endpoint: `http://127.0.0.1:${(loop.address() as AddressInfo).port}`, cacheDir: tempDir() });
      await assert.rejects(c.download(TINY, "main", "config.json"), /more than 5 redirects/);
    } finally {
      loop.close();
      loop.closeAllConnections();
    }
  });
});
