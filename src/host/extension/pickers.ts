/**
 * Which model, layer and head a command acts on: the tree item it was run on, else quick picks.
 * A hub model is downloaded first (after the user agrees); a broken one is refused with its reason.
 */
import * as vscode from "vscode";
import { iconText } from "../../core/markdownText";
import { allHeads, headName, HeadRef } from "../../core/heads";
import { ensureDownloaded } from "./hubDownloads";
import { isLoadable, LoadableModel, ModelEntry, modelName } from "./modelEntry";
import type { Services } from "./services";
import type { TreeNode } from "./headTree";

interface ModelPick {
  title: string;
  /** Only models that can run now (not hub models still to download). */
  loadableOnly?: boolean;
  /** Listed first and marked (e.g. the model the attention panel runs). */
  current?: ModelEntry;
  currentLabel?: string;
}

/** A quick pick of the listed models (none asked when exactly one can be used). */
export async function pickModel(s: Pick<Services, "registry">, o: ModelPick): Promise<ModelEntry | undefined> {
  await s.registry.ready;
  const listed = s.registry.list().filter((m) => !o.loadableOnly || m.config);
  if (o.loadableOnly && !listed.length) throw new Error("no model is ready: add a model folder or download a hub model first");
  const usable = listed.filter((m) => m.config || m.hub);
  if (usable.length === 1 && !o.current) return usable[0];
  const ordered = [...listed].sort((a, b) => Number(b.id === o.current?.id) - Number(a.id === o.current?.id));
  const items = ordered.map((m) => ({
    label: iconText(modelName(m)), // model text: "$(…)" in it is no icon
    model: m,
    detail: iconText(m.error ?? m.dir),
    description: `${m.id === o.current?.id && o.currentLabel ? `${o.currentLabel} · ` : ""}${shape(m)}`,
  }));
  return (
    await vscode.window.showQuickPick(items, { title: `Head Lens: ${o.title}`, placeHolder: "Pick a model", matchOnDescription: true })
  )?.model;
}

const shape = (m: ModelEntry) =>
  m.config
    ? `${m.config.n_layers}L × ${m.config.n_heads}H · V ${m.config.d_vocab} · n_ctx ${m.config.n_ctx}`
    : m.hub
      ? `hub · not downloaded · ${m.hub.layers}L × ${m.hub.heads}H`
      : "broken: cannot be loaded";

/** A pick of the models that can run on a text, the attention panel's (`current`) first and marked. */
export async function pickRunModel(s: Services, current?: LoadableModel): Promise<LoadableModel | undefined> {
  const m = await pickModel(s, {
    title: "run which model on the text?",
    loadableOnly: true,
    current,
    currentLabel: "in the attention panel",
  });
  return isLoadable(m) ? m : undefined;
}

/** The model Show Attention runs: the attention panel's (`current`), else the heads panel's, else a pick. */
export async function runModel(s: Services, current?: LoadableModel): Promise<LoadableModel | undefined> {
  const chosen = current ?? s.heads.activeModel();
  const listed = chosen && s.registry.get(chosen.id);
  return isLoadable(listed) ? listed : pickRunModel(s);
}

/** The model to act on, loadable: `model` (a tree item's, the hover's) or a pick; hub models downloaded first. */
export async function usableModel(s: Services, model: ModelEntry | undefined, title = "model"): Promise<LoadableModel | undefined> {
  let m = model ?? (await pickModel(s, { title }));
  if (m?.hub && !m.config) m = await ensureDownloaded(s, m);
  if (!m) return undefined;
  if (!isLoadable(m)) {
    s.reportError(`${modelName(m)} cannot be analyzed`, new Error(m.error ?? "invalid model folder"));
    return undefined;
  }
  return m;
}

async function pickNumber(title: string, count: number, label: (i: number) => string): Promise<number | undefined> {
  if (count === 1) return 0;
  const items = Array.from({ length: count }, (_, i) => ({ label: label(i), i }));
  return (await vscode.window.showQuickPick(items, { title, placeHolder: "Type to filter" }))?.i;
}

/** A layer of the model: the tree item's, else a pick. */
export async function targetLayer(s: Services, node: TreeNode | undefined): Promise<{ model: LoadableModel; layer: number } | undefined> {
  const model = await usableModel(s, node?.model);
  if (!model) return undefined;
  const layer =
    node && node.kind !== "model"
      ? node.layer
      : await pickNumber(`Head Lens: layer of ${modelName(model)}`, model.config.n_layers, (i) => `Layer ${i}`);
  return layer === undefined ? undefined : { model, layer };
}

/** A head of the model: the tree item's, else picks of its layer and head. */
export async function targetHead(s: Services, node: TreeNode | undefined): Promise<{ model: LoadableModel; head: HeadRef } | undefined> {
  const t = await targetLayer(s, node);
  if (!t) return undefined;
  const head =
    node?.kind === "head"
      ? node.head
      : await pickNumber(`Head Lens: head of layer ${t.layer}`, t.model.config.n_heads, (i) => headName(t.layer, i));
  return head === undefined ? undefined : { model: t.model, head: { layer: t.layer, head } };
}

/** One head of the model, from one list ("L1H0"). */
export async function pickHead(
  model: LoadableModel,
  title: string,
  extra: { label: string; description: string }[] = [],
): Promise<HeadRef | null | undefined> {
  const heads = allHeads(model.config.n_layers, model.config.n_heads).map((ref) => ({
    label: headName(ref.layer, ref.head),
    ref: ref as HeadRef | null,
  }));
  const pick = await vscode.window.showQuickPick([...heads, ...extra.map((e) => ({ ...e, ref: null }))], {
    title: `Head Lens: ${title}`,
    placeHolder: "Type to filter, e.g. L1H0",
  });
  return pick ? pick.ref : undefined;
}

/** The model a restored page showed, if it is still listed and loadable; otherwise the page closes. */
export async function restoredModel(
  s: Pick<Services, "registry">,
  panel: vscode.WebviewPanel,
  id: string | undefined,
): Promise<LoadableModel | undefined> {
  await s.registry.ready;
  const model = id === undefined ? undefined : s.registry.get(id);
  if (isLoadable(model)) return model;
  panel.dispose(); // its model is gone: nothing to restore
  return undefined;
}
