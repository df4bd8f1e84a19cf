/** Report exports: Markdown for notes, CSV for spreadsheets (JSON is the CLI's --json). */
import { HeadReport } from "./report";
import { fmt2 } from "./reportText";

const mdCell = (s: string) => s.replace(/\|/g, "\\|").replace(/`/g, "\\`");

export function headReportMarkdown(r: HeadReport): string {
  const out = [`## Head ${r.layer}:${r.head} (${r.model})`, "", `Execution provider: ${r.ep}; BOS id ${r.bos}.`, ""];
  for (const k of r.keys) {
    out.push(`### Key ${mdCell(k.token)} (id ${k.id})`, "", `importance ${k.importance.toPrecision(4)} · maxQK ${fmt2(k.maxQK)} · maxOV ${fmt2(k.maxOV)}`, "");
    out.push("| rank | query | QK | output | OV |", "|---:|---|---:|---|---:|");
    const n = Math.max(k.queries.length, k.outputs.length);
    for (let i = 0; i < n; i++) {
      const q = k.queries[i], o = k.outputs[i];
      out.push(`| ${i + 1} | ${q ? "`" + mdCell(q.token) + "`" : ""} | ${q ? fmt2(q.score) : ""} | ${o ? "`" + mdCell(o.token) + "`" : ""} | ${o ? fmt2(o.score) : ""} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

const csvField = (s: string | number) => {
  const t = String(s);
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};

/** One row per (key, query) and (key, output) pair. */
export function headReportsCsv(reports: HeadReport[]): string {
  const rows = [["model", "layer", "head", "key_rank", "key_id", "key_token", "importance", "maxQK", "maxOV", "kind", "rank", "token_id", "token", "score"]];
  for (const r of reports) {
    r.keys.forEach((k, ki) => {
      const base = [r.model, r.layer, r.head, ki + 1, k.id, k.token, k.importance, k.maxQK, k.maxOV];
      k.queries.forEach((q, i) => rows.push([...base, "query", i + 1, q.id, q.token, q.score].map(String)));
      k.outputs.forEach((o, i) => rows.push([...base, "output", i + 1, o.id, o.token, o.score].map(String)));
    });
  }
  return rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}
