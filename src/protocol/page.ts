/** What every webview page's protocol shares: one-way notes, the page's "ready", the model it shows. */

/** A one-way message (the channel's notify). */
export type Note<P> = { params: P; result: void };

/** Every page says when it listens (at load, and again when VS Code re-creates a hidden page). */
export type PageHostApi = { ready: Note<Record<string, never>> };

export interface ModelSummary {
  id: string;
  name: string;
  nLayers: number;
  nHeads: number;
  dVocab: number;
  dModel: number;
}
