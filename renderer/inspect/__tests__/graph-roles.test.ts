import { describe, expect, it } from 'vitest';
import { getLayer, hasLayer } from '../../../engine/graph/catalogue.ts';
import type { ModelGraph } from '../../../engine/graph/types.ts';
import { graphRoles } from '../graph-roles.ts';

const lookup = (t: string) => (hasLayer(t) ? getLayer(t) : undefined);
const edge = (source: string, target: string, targetPort: string, sourcePort = 'y') => ({ id: `${source}->${target}.${targetPort}`, source, sourcePort, target, targetPort });

describe('graph roles for inspection', () => {
  it('finds the input, the target and the node the loss scores', () => {
    const lossDef = getLayer('CrossEntropyLoss');
    const [predPort, targetPort] = lossDef.inputs(lossDef.params as never).map((p) => p.name);
    const inputType = ['ImageInput', 'VectorInput'].find(hasLayer)!;
    const targetType = 'Target';
    expect(hasLayer(targetType)).toBe(true);
    const graph: ModelGraph = {
      nodes: [
        { id: 'in', type: inputType, params: {} },
        { id: 'fc', type: 'Linear', params: {} },
        { id: 'label', type: targetType, params: {} },
        { id: 'loss', type: 'CrossEntropyLoss', params: {} },
      ],
      edges: [edge('in', 'fc', 'x'), edge('label', 'loss', targetPort), edge('fc', 'loss', predPort)],
    };
    expect(graphRoles(graph, lookup)).toEqual({ inputId: 'in', targetId: 'label', predictionId: 'fc' });
  });

  it('takes the last node as the prediction when there is no loss', () => {
    const graph: ModelGraph = { nodes: [{ id: 'fc', type: 'Linear', params: {} }], edges: [] };
    expect(graphRoles(graph, lookup)).toEqual({ inputId: null, targetId: null, predictionId: 'fc' });
  });
});
