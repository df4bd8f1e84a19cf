/**
 * A local stand-in for the Hugging Face hub and its CDN, serving the fixture repos in
 * test/fixtures/hub the way the real hub answers (each behaviour, with its source or marked as a
 * guess, is listed in test/hubProtocol.test.ts):
 *   GET  /api/models/{repo}/revision/{rev}          file listing (public even for gated repos)
 *   HEAD|GET /{repo}/resolve/{rev}/{file}            git files: relative 307 to /api/resolve-cache/…;
 *                                                    LFS files: 302 to the CDN (another origin) with a
 *                                                    signed, expiring URL, X-Linked-Etag / X-Linked-Size
 *   HEAD|GET /api/resolve-cache/models/{repo}/{commit}/{file}   the git file itself (gzip for text)
 *   HEAD|GET {cdn}/xet-bridge-us/{repo}/{sha256}?X-Amz-…        LFS bytes, Range; refuses a token
 * Switchable faults: bodies cut short or corrupted, gated repos, signed URLs born expired, gzip
 * regardless of Accept-Encoding, and commit/etag headers on the 307 as well.
 */
import { createHash, createHmac } from "node:crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";

export interface FakeHubFaults {
  /** The next N bodies over 100 bytes stop half way (the connection is closed). */
  cutShort: number;
  /** The next N bodies over 100 bytes have one byte flipped. */
  corrupt: number;
  /** Repos whose files need the token (their listing stays public, as on the hub). */
  gated: Set<string>;
  /** The next N signed CDN URLs are already expired when handed out. */
  expireNext: number;
  /** Gzip text bodies (GET) even when the client asks for identity, whatever their size. */
  forceGzip: boolean;
  /** The 307 to resolve-cache also carries X-Repo-Commit and ETag (undocumented either way). */
  metaOnRedirect: boolean;
  /** resolve-cache answers a weak ETag, W/"<sha1>", even uncompressed. */
  weakEtags: boolean;
  /** Extra paths the tree API lists (hostile listings: `..`, non-numeric labels, 10⁶ entries); never served. */
  extraTree: (repo: string) => Iterable<string>;
}

export interface FakeRequest {
  host: "hub" | "cdn";
  method: string;
  /** Path without the query. */
  path: string;
  range?: string;
  authorization?: string;
  acceptEncoding?: string;
  status?: number;
  /** Body bytes sent (ranges: the range's length). */
  bytes?: number;
}

export interface FakeHub {
  url: string;
  /** The CDN's origin: same host, another port, so a different origin. */
  cdnUrl: string;
  server: Server;
  cdn: Server;
  faults: FakeHubFaults;
  requests: FakeRequest[];
  commitOf(repo: string): string;
  close(): Promise<void>;
}

const LFS = /\.(pth|safetensors|bin|onnx)$/;
const TEXT_TYPES: Record<string, string> = { ".json": "application/json", ".txt": "text/plain; charset=utf-8", ".md": "text/markdown" };
const SIGNING_KEY = "fake-cdn-signing-key";
const URL_LIFETIME_S = 3600;
/** Entries per tree page (the hub's default is 1 000). */
const TREE_PAGE = 1000;

const sha1 = (s: string | Buffer) => createHash("sha1").update(s).digest("hex");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const gitBlobSha1 = (b: Buffer) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");
const amzDate = (t: number) => new Date(t).toISOString().replace(/[-:]|\.\d{3}/g, "");
const fromAmzDate = (s: string) => Date.parse(s.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"));
const sign = (path: string, date: string, expires: string) =>
  createHmac("sha256", SIGNING_KEY).update(`${path}\n${date}\n${expires}`).digest("hex");
const textType = (file: string) => TEXT_TYPES[file.slice(file.lastIndexOf("."))];

function loadRepos(root: string): Map<string, Map<string, Buffer>> {
  const repos = new Map<string, Map<string, Buffer>>();
  for (const owner of readdirSync(root))
    for (const name of readdirSync(join(root, owner))) {
      const files = new Map<string, Buffer>();
      const walk = (d: string) => {
        for (const f of readdirSync(d)) {
          const p = join(d, f);
          if (statSync(p).isDirectory()) walk(p);
          else
            files.set(
              relative(join(root, owner, name), p)
                .split("\\")
                .join("/"),
              readFileSync(p),
            );
        }
      };
      walk(join(root, owner, name));
      repos.set(`${owner}/${name}`, files);
    }
  return repos;
}

/** aliases: extra repo names that serve an existing fixture repo (e.g. the real attn-only-2l name). */
export async function startFakeHub(root: string, token = "hf_test_token", aliases: Record<string, string> = {}): Promise<FakeHub> {
  const repos = loadRepos(root);
  for (const [alias, target] of Object.entries(aliases)) repos.set(alias, repos.get(target)!);
  const commitOf = (repo: string) => sha1(`commit:${repo}`);
  const hub: FakeHub = {
    url: "",
    cdnUrl: "",
    server: createServer(),
    cdn: createServer(),
    requests: [],
    commitOf,
    faults: {
      cutShort: 0,
      corrupt: 0,
      gated: new Set(),
      expireNext: 0,
      forceGzip: false,
      metaOnRedirect: false,
      weakEtags: false,
      extraTree: () => [],
    },
    close: async () => {
      for (const s of [hub.server, hub.cdn]) {
        const closed = new Promise<void>((r) => s.close(() => r()));
        s.closeAllConnections();
        await closed;
      }
    },
  };
  const blobs = new Map<string, { body: Buffer; file: string }>(); // CDN objects by sha256

  const log = (host: FakeRequest["host"], req: IncomingMessage, res: ServerResponse, url: URL) => {
    const entry: FakeRequest = {
      host,
      method: req.method!,
      path: url.pathname,
      range: req.headers.range,
      authorization: req.headers.authorization,
      acceptEncoding: req.headers["accept-encoding"],
    };
    hub.requests.push(entry);
    res.on("finish", () => (entry.status = res.statusCode));
  };

  /** Hub errors: status + X-Error-Code + X-Error-Message, a short JSON body. */
  const fail = (res: ServerResponse, status: number, code: string | undefined, message: string, extra: Record<string, string> = {}) => {
    const body = JSON.stringify({ error: message });
    res.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": String(Buffer.byteLength(body)),
      ...(code ? { "X-Error-Code": code } : {}),
      "X-Error-Message": message,
      ...extra,
    });
    res.end(body);
  };
  /** Repo and revision checks shared by the listing and resolve: undefined when the answer was sent. */
  const access = (req: IncomingMessage, res: ServerResponse, repo: string, rev: string, forFiles: boolean) => {
    const files = repos.get(repo);
    const auth = req.headers.authorization;
    if (!files) return void fail(res, auth ? 404 : 401, "RepoNotFound", "Repository not found");
    if (rev !== "main" && rev !== commitOf(repo)) return void fail(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
    if (forFiles && hub.faults.gated.has(repo) && auth !== `Bearer ${token}`) {
      return void (auth
        ? fail(
            res,
            403,
            "GatedRepo",
            `Access to model ${repo} is restricted and you are not in the authorized list. Visit ${hub.url}/${repo} to ask for access.`,
          )
        : fail(
            res,
            401,
            "GatedRepo",
            `Access to model ${repo} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
          ));
    }
    return files;
  };

  const handleHub = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, hub.url);
    log("hub", req, res, url);
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const [repo, rev] = [m[1], decodeURIComponent(m[2])];
      const files = access(req, res, repo, rev, false);
      if (!files) return;
      const json = Buffer.from(
        JSON.stringify({
          id: repo,
          sha: commitOf(repo),
          private: false,
          gated: hub.faults.gated.has(repo) ? "auto" : false,
          siblings: [...files.keys()].map((rfilename) => ({ rfilename })),
        }),
      );
      return sendText(
        req,
        res,
        json,
        { "Content-Type": "application/json; charset=utf-8", ETag: `W/"${json.length.toString(16)}-${sha1(json).slice(0, 27)}"` },
        false,
      );
    }
    m = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(url.pathname);
    if (m) return tree(req, res, url, m[1], decodeURIComponent(m[2]), decodeURIComponent(m[3] ?? ""));
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      const [repo, rev, file] = [m[1], decodeURIComponent(m[2]), decodeURIComponent(m[3])];
      const files = access(req, res, repo, rev, true);
      if (!files) return;
      const commit = commitOf(repo);
      const body = files.get(file);
      if (!body) return fail(res, 404, "EntryNotFound", "Entry not found", { "X-Repo-Commit": commit });
      if (LFS.test(file)) return redirectToCdn(res, repo, commit, file, body);
      const location =
        `/api/resolve-cache/models/${repo}/${commit}/${file.split("/").map(encodeURIComponent).join("/")}` +
        `?${encodeURIComponent(url.pathname)}=&etag=${encodeURIComponent(`"${gitBlobSha1(body)}"`)}`;
      const meta: Record<string, string> = hub.faults.metaOnRedirect ? { "X-Repo-Commit": commit, ETag: `"${gitBlobSha1(body)}"` } : {};
      return redirect(res, 307, "Temporary Redirect", location, meta);
    }
    m = /^\/api\/resolve-cache\/models\/([^/]+\/[^/]+)\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      const [repo, commit, file] = [m[1], m[2], decodeURIComponent(m[3])];
      if (!/^[0-9a-f]{40}$/.test(commit)) return fail(res, 400, undefined, "resolve-cache needs a commit sha");
      const files = access(req, res, repo, commit, true);
      if (!files) return;
      const body = files.get(file);
      if (!body) return fail(res, 404, "EntryNotFound", "Entry not found", { "X-Repo-Commit": commit });
      const etag = `${hub.faults.weakEtags ? "W/" : ""}"${gitBlobSha1(body)}"`;
      return sendText(req, res, body, {
        "Content-Type": textType(file) ?? "application/octet-stream",
        "X-Repo-Commit": commit,
        ETag: etag,
      });
    }
    fail(res, 404, undefined, "Not found");
  };

  /**
   * The tree API as the hub answers it: entries {type, oid, size, path, lfs?} under `folder`
   * (recursive), TREE_PAGE per page, the next page in a Link header with an opaque cursor.
   */
  const tree = (req: IncomingMessage, res: ServerResponse, url: URL, repo: string, rev: string, folder: string) => {
    const files = access(req, res, repo, rev, false);
    if (!files) return;
    const prefix = folder ? `${folder.replace(/\/+$/, "")}/` : "";
    const cursor = Number(url.searchParams.get("cursor") ?? 0);
    const page: object[] = [];
    let i = 0;
    const add = (path: string, body?: Buffer) => {
      if (i++ < cursor || page.length > TREE_PAGE) return;
      const lfs = body && LFS.test(path) ? { lfs: { oid: sha256(body), size: body.length, pointerSize: 134 } } : {};
      page.push({ type: "file", oid: sha1(path), size: body?.length ?? 1, path, ...lfs });
    };
    for (const [path, body] of files) if (path.startsWith(prefix)) add(path, body);
    for (const path of hub.faults.extraTree(repo)) {
      if (page.length > TREE_PAGE) break;
      add(path);
    }
    const more = page.length > TREE_PAGE;
    if (more) page.pop();
    const json = Buffer.from(JSON.stringify(page));
    const next = `${url.pathname}?recursive=true&cursor=${cursor + TREE_PAGE}`;
    res.writeHead(200, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": String(json.length),
      ...(more ? { Link: `<${hub.url}${next}>; rel="next"` } : {}),
    });
    res.end(json);
  };

  /** Express-style redirect: a text body whose length is the redirect's Content-Length. */
  const redirect = (res: ServerResponse, status: number, reason: string, location: string, headers: Record<string, string>) => {
    const text = `${reason}. Redirecting to ${location}`;
    res.writeHead(status, {
      ...headers,
      Location: location,
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Length": String(Buffer.byteLength(text)),
      Vary: "Origin, Accept",
    });
    res.end(res.req.method === "HEAD" ? undefined : text);
  };

  const redirectToCdn = (res: ServerResponse, repo: string, commit: string, file: string, body: Buffer) => {
    const oid = sha256(body);
    blobs.set(oid, { body, file });
    const path = `/xet-bridge-us/${sha1(repo).slice(0, 24)}/${oid}`;
    const born = hub.faults.expireNext > 0 ? (hub.faults.expireNext--, Date.now() - 2 * URL_LIFETIME_S * 1000) : Date.now();
    const [date, expires] = [amzDate(born), String(URL_LIFETIME_S)];
    const query = new URLSearchParams({
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Date": date,
      "X-Amz-Expires": expires,
      "X-Amz-Signature": sign(path, date, expires),
      "X-Amz-SignedHeaders": "host",
      "response-content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(file)}; filename="${file}";`,
    });
    const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${body.length}\n`);
    redirect(res, 302, "Found", `${hub.cdnUrl}${path}?${query}`, {
      "X-Repo-Commit": commit,
      ETag: `"${gitBlobSha1(pointer)}"`,
      "X-Linked-Etag": `"${oid}"`,
      "X-Linked-Size": String(body.length),
    });
  };

  const handleCdn = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, hub.cdnUrl);
    log("cdn", req, res, url);
    const xml = (status: number, code: string, message: string) => {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
      res.writeHead(status, { "Content-Type": "application/xml", "Content-Length": String(body.length) }).end(body);
    };
    const q = url.searchParams;
    const [date, expires, signature] = [q.get("X-Amz-Date") ?? "", q.get("X-Amz-Expires") ?? "", q.get("X-Amz-Signature") ?? ""];
    if (req.headers.authorization) {
      return xml(
        400,
        "InvalidArgument",
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, " +
          "Signature query string parameter or the Authorization header should be specified",
      );
    }
    if (signature !== sign(url.pathname, date, expires))
      return xml(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
    if (Date.now() > fromAmzDate(date) + Number(expires) * 1000) return xml(403, "AccessDenied", "Request has expired");
    const blob = blobs.get(url.pathname.split("/").pop()!);
    if (!blob) return xml(404, "NoSuchKey", "The specified key does not exist.");
    const name = blob.file.split("/").pop()!;
    serveBytes(req, res, blob.body, {
      "Content-Type": "application/octet-stream",
      ETag: `"${sha256(Buffer.from(`cdn:${sha256(blob.body)}`))}"`,
      "Content-Disposition": `attachment; filename*=UTF-8''${encodeURIComponent(name)}; filename="${name}";`,
    });
  };

  /** Text through the CDN layer: gzip (chunked, weak ETag, Range ignored) when asked and 1 kB–10 MB. */
  const sendText = (req: IncomingMessage, res: ServerResponse, body: Buffer, headers: Record<string, string>, faults = true) => {
    const wantsGzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    const compressible = headers["Content-Type"] !== "application/octet-stream" && body.length >= 1000 && body.length <= 10_000_000;
    const forced = hub.faults.forceGzip && req.method === "GET"; // HEAD with identity stays honoured
    if (!forced && !(wantsGzip && compressible)) return serveBytes(req, res, body, headers, faults);
    const etag = headers.ETag?.startsWith("W/") ? headers.ETag : `W/${headers.ETag}`;
    res.writeHead(200, { ...headers, ETag: etag, "Content-Encoding": "gzip", Vary: "Accept-Encoding" }); // no Content-Length: chunked
    if (req.method === "HEAD") return void res.end();
    if (!faults) return void res.end(gzipSync(body));
    send(res, gzipSync(faulty(body)));
  };

  /** Identity bytes with Range support (bytes=a- and bytes=a-b). */
  const serveBytes = (req: IncomingMessage, res: ServerResponse, full: Buffer, headers: Record<string, string>, faults = true) => {
    let body = full,
      status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (range) {
      const start = Number(range[1]),
        end = range[2] ? Math.min(Number(range[2]), full.length - 1) : full.length - 1;
      if (start >= full.length) return void res.writeHead(416, { "Content-Range": `bytes */${full.length}` }).end();
      body = full.subarray(start, end + 1);
      status = 206;
      headers = { ...headers, "Content-Range": `bytes ${start}-${end}/${full.length}` };
    }
    res.writeHead(status, { ...headers, "Content-Length": String(body.length), "Accept-Ranges": "bytes" });
    if (req.method !== "HEAD") hub.requests.at(-1)!.bytes = body.length;
    if (req.method === "HEAD" || !faults) return void res.end(req.method === "HEAD" ? undefined : body);
    send(res, faulty(body));
  };

  const faulty = (body: Buffer) => {
    if (hub.faults.corrupt <= 0 || body.length <= 100) return body;
    hub.faults.corrupt--;
    const copy = Buffer.from(body);
    copy[copy.length >> 1] ^= 0xff;
    return copy;
  };
  const send = (res: ServerResponse, body: Buffer) => {
    if (hub.faults.cutShort > 0 && body.length > 100) {
      hub.faults.cutShort--;
      // Half the body, then FIN (not RST: a reset may drop bytes the client has not read yet).
      return void res.write(body.subarray(0, body.length >> 1), () => res.socket?.end());
    }
    res.end(body);
  };

  hub.server.on("request", handleHub);
  hub.cdn.on("request", handleCdn);
  for (const s of [hub.server, hub.cdn]) await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  hub.url = `http://127.0.0.1:${(hub.server.address() as AddressInfo).port}`;
  hub.cdnUrl = `http://127.0.0.1:${(hub.cdn.address() as AddressInfo).port}`;
  return hub;
}
