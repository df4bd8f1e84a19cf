/**
 * A local HTTP server speaking the Hugging Face hub's URL layout, serving fixture repos from
 * test/fixtures/hub: /api/models/{repo}/revision/{rev}, /{repo}/resolve/{rev}/{file} (302 to a
 * "CDN" path for .pth files, with X-Repo-Commit / X-Linked-Etag / X-Linked-Size), Range requests,
 * and switchable faults: a gated repo (401 without the token), a body cut short, a corrupted body.
 */
import { createHash } from "node:crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { AddressInfo } from "node:net";

export interface FakeHub {
  url: string;
  server: Server;
  faults: { cutShort: number; corrupt: number; gated: Set<string> };
  requests: { method: string; path: string; range?: string }[];
  commitOf(repo: string): string;
  close(): Promise<void>;
}

const isLfs = (file: string) => file.endsWith(".pth") || file.endsWith(".safetensors");

/** aliases: extra repo names that serve an existing fixture repo (e.g. the real attn-only-2l name). */
export async function startFakeHub(root: string, token = "hf_test_token", aliases: Record<string, string> = {}): Promise<FakeHub> {
  const repos = new Map<string, Map<string, Buffer>>();
  for (const owner of readdirSync(root)) for (const name of readdirSync(join(root, owner))) {
    const files = new Map<string, Buffer>();
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.set(relative(join(root, owner, name), p).split("\\").join("/"), readFileSync(p));
      }
    };
    walk(join(root, owner, name));
    repos.set(`${owner}/${name}`, files);
  }
  for (const [alias, target] of Object.entries(aliases)) repos.set(alias, repos.get(target)!);
  const commitOf = (repo: string) => createHash("sha1").update(`commit:${repo}`).digest("hex");
  const etagOf = (file: string, body: Buffer) => (isLfs(file)
    ? createHash("sha256").update(body).digest("hex")
    : createHash("sha1").update(`blob ${body.length}\0`).update(body).digest("hex"));
  const cdn = new Map<string, Buffer>();
  const hub: FakeHub = {
    url: "", server: undefined as unknown as Server, faults: { cutShort: 0, corrupt: 0, gated: new Set() }, requests: [], commitOf,
    close: () => new Promise((r) => hub.server.close(() => r())),
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, "http://x");
    hub.requests.push({ method: req.method!, path: url.pathname, range: req.headers.range });
    const deny = (repo: string) => hub.faults.gated.has(repo) && req.headers.authorization !== `Bearer ${token}`;
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const files = repos.get(m[1]);
      if (!files) return void res.writeHead(404).end(JSON.stringify({ error: "Repository not found" }));
      if (deny(m[1])) return void res.writeHead(401).end(JSON.stringify({ error: "Access to this model is restricted" }));
      res.writeHead(200, { "Content-Type": "application/json" });
      return void res.end(JSON.stringify({ id: m[1], sha: commitOf(m[1]), siblings: [...files.keys()].map((rfilename) => ({ rfilename })) }));
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      const [repo, file] = [m[1], decodeURIComponent(m[3])];
      const body = repos.get(repo)?.get(file);
      if (!body) return void res.writeHead(404, { "X-Error-Code": "EntryNotFound" }).end();
      if (deny(repo)) return void res.writeHead(401).end();
      const etag = etagOf(file, body);
      const headers = { "X-Repo-Commit": commitOf(repo), ETag: `"${etag}"` };
      if (isLfs(file)) {
        cdn.set(etag, body);
        res.writeHead(302, { ...headers, Location: `/cdn/${etag}`, "X-Linked-Etag": `"${etag}"`, "X-Linked-Size": String(body.length) });
        return void res.end();
      }
      return void serve(req, res, body, headers);
    }
    m = /^\/cdn\/([0-9a-f]+)$/.exec(url.pathname);
    if (m && cdn.has(m[1])) return void serve(req, res, cdn.get(m[1])!, { ETag: `"${m[1]}"` });
    res.writeHead(404).end();
  };
  const serve = (req: IncomingMessage, res: ServerResponse, full: Buffer, headers: Record<string, string>) => {
    let body = full, status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (range) {
      body = full.subarray(Number(range[1]));
      status = 206;
      headers["Content-Range"] = `bytes ${range[1]}-${full.length - 1}/${full.length}`;
    }
    res.writeHead(status, { ...headers, "Content-Length": String(body.length), "Accept-Ranges": "bytes" });
    if (req.method === "HEAD") return void res.end();
    if (hub.faults.corrupt > 0 && body.length > 100) {
      hub.faults.corrupt--;
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    if (hub.faults.cutShort > 0 && body.length > 100) {
      hub.faults.cutShort--;
      res.write(body.subarray(0, body.length >> 1), () => res.destroy());
      return;
    }
    res.end(body);
  };
  hub.server = createServer(handle);
  await new Promise<void>((r) => hub.server.listen(0, "127.0.0.1", () => r()));
  hub.url = `http://127.0.0.1:${(hub.server.address() as AddressInfo).port}`;
  return hub;
}
