/**
 * Which nodes of a model graph play which part in inspection: the input fed with the
 * sample, the Target fed with its label, and the node whose output the first loss scores
 * as the prediction. Read from the catalogue's flags, never from layer names.
 */
import type { LayerDef, ModelGraph } from '../../engine/graph/types.ts';

export interface GraphRoles {
  inputId: string | null;
  targetId: string | null;
  predictionId: string | null;
}

export function graphRoles(graph: ModelGraph, getLayer: (type: string) => LayerDef | undefined): GraphRoles {
  const def = (id: string) => {
    const n = graph.nodes.find((x) => x.id === id);
    return n ? getLayer(n.type) : undefined;
  };
  const inputId = graph.nodes.find((n) => getLayer(n.type)?.isInput && !getLayer(n.type)?.isTarget)?.id ?? null;
  const targetId = graph.nodes.find((n) => getLayer(n.type)?.isTarget)?.id ?? null;
  let predictionId: string | null = null;
  const loss = graph.nodes.find((n) => getLayer(n.type)?.isLoss);
  if (loss) {
    const lossDef = getLayer(loss.type)!;
    const firstPort = lossDef.inputs(loss.params, loss)[0]?.name;
    const edge = graph.edges.find((e) => e.target === loss.id && e.targetPort === firstPort && !def(e.source)?.isTarget);
    predictionId = edge?.source ?? null;
  } else {
    // No loss: the node nothing reads from is the output.
    const sources = new Set(graph.edges.map((e) => e.source));
    predictionId = graph.nodes.find((n) => !sources.has(n.id) && !getLayer(n.type)?.isInput)?.id ?? null;
  }
  return { inputId, targetId, predictionId };
}
