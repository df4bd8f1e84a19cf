/**
 * The webview pages: one folder per page under webview/, bundled as dist/webview/<page>.js, styled
 * by media/base.css and the page's own sheet. A page's host class names its spec here.
 */
export interface PageSpec {
  /** VS Code's view type (its serializer restores the page after a window reload). */
  viewType: string;
  /** dist/webview/<script> */
  script: string;
  /** Stylesheets in media/, applied in order. */
  styles: string[];
  /** Kept alive while hidden: only where re-sending what the page shows would cost more than keeping it. */
  retainContextWhenHidden: boolean;
}

export const PAGES = {
  heads: { viewType: "headLens.panel", script: "heads.js", styles: ["base.css", "heads.css"], retainContextWhenHidden: false },
  overview: { viewType: "headLens.overview", script: "overview.js", styles: ["base.css", "tables.css"], retainContextWhenHidden: false },
  tokens: { viewType: "headLens.tokenHeads", script: "tokens.js", styles: ["base.css", "tables.css"], retainContextWhenHidden: false },
  patching: { viewType: "headLens.patching", script: "patching.js", styles: ["base.css", "patching.css"], retainContextWhenHidden: false },
  timeline: { viewType: "headLens.timeline", script: "timeline.js", styles: ["base.css", "timeline.css"], retainContextWhenHidden: false },
  // A run's thumbnails, predictions and the enlarged head's exact pattern would have to be sent again on every tab switch.
  attention: {
    viewType: "headLens.attention",
    script: "attention.js",
    styles: ["base.css", "attention.css"],
    retainContextWhenHidden: true,
  },
} satisfies Record<string, PageSpec>;
