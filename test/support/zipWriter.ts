/** Writes an uncompressed (stored) zip archive, as torch.save does, for hand-made .pth test files. */
import { crc32, deflateRawSync } from "node:zlib";

export interface ZipEntry {
  name: string;
  data: Uint8Array;
  /** Deflate this entry (torch.save never does; used for zip-bomb tests). */
  deflate?: boolean;
  /** Override the compression method / general-purpose flags / declared size written. */
  method?: number;
  flags?: number;
  declaredSize?: number;
  /** Pad the local header's extra field so the data starts at a multiple of this (torch.save aligns to 64 with an "FB" field). */
  align?: number;
}

export function writeZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, "utf8");
    const body = e.deflate ? deflateRawSync(e.data) : Buffer.from(e.data);
    const crc = crc32(e.data);
    const method = e.method ?? (e.deflate ? 8 : 0);
    const size = e.declaredSize ?? e.data.length;
    const pad = e.align ? (e.align - ((offset + 30 + name.length + 4) % e.align)) % e.align : -4;
    const extra = Buffer.alloc(pad + 4);
    if (pad >= 0) {
      extra.write("FB", 0, "latin1");
      extra.writeUInt16LE(pad, 2);
    }
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.flags ?? 0, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(e.flags ?? 0, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, extra, body);
    centrals.push(central, name);
    offset += local.length + name.length + extra.length + body.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** A torch-style checkpoint archive: archive/data.pkl, archive/byteorder, archive/data/<key>. */
export function writePth(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}, archive = "archive", align?: number): Buffer {
  return writeZip([
    { name: `${archive}/data.pkl`, data: pickle },
    { name: `${archive}/byteorder`, data: Buffer.from("little") },
    ...Object.entries(storages).map(([k, v]) => ({ name: `${archive}/data/${k}`, data: v, align })),
    { name: `${archive}/version`, data: Buffer.from("3\n") },
  ]);
}
