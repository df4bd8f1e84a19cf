/** Command ids that more than one module names (the hover's links, the status bar, the tree). */
export const PICK_HOVER_CONTEXT = "headLens.chooseHoverContext";
/** Behind the hover's "Which heads use …?" links (registered in circuitCommands.ts). */
export const WHICH_HEADS = "headLens.whichHeads";
export const MODEL_OVERVIEW = "headLens.modelOverview";
export const ANALYZE_HEAD = "headLens.analyzeHead";
export const CHOOSE_ATTENTION_MODEL = "headLens.chooseAttentionModel";
/** Why Does the Head Attend Here? (the attention panel's Why; the attention hover links to it). */
export const WHY_ATTEND = "headLens.whyAttend";
