import { useMemo, useState } from 'react';
import { LineChart } from '../charts/LineChart.tsx';
import { accuracySeries } from './mode-state.ts';
import { ModeImage } from './ImageView.tsx';
import { LatentScatter } from './LatentScatter.tsx';
import { useModeView, type ModeSession } from './useModeSession.ts';

/** The warnings of a GAN run (a pinned discriminator, mode collapse), impossible to miss. */
export function GanWarnings({ warnings }: { warnings: string[] }) {
  if (!warnings.length) return null;
  return (
    <div className="run-banner run-banner-warning" role="alert" data-testid="gan-warning">
      <strong>Training trouble.</strong>
      <ul>
        {warnings.map((w) => (
          <li key={w}>{w}</li>
        ))}
      </ul>
    </div>
  );
}

/**
 * GAN views: the generator's samples now (from fixed noise), the grid of every finished
 * epoch with its losses, the discriminator's accuracy, and warnings.
 */
export function GanViews({ session }: { session: ModeSession }) {
  const { state } = session;
  const { view, error } = useModeView(session, { kind: 'gan' }, 'gan');
  const [epoch, setEpoch] = useState<number | null>(null);
  const accuracy = useMemo(() => accuracySeries(state), [state]);
  const epochs = state.ganEpochs;
  const shown = epoch === null ? epochs[epochs.length - 1] : epochs.find((e) => e.epoch === epoch);
  const warnings = view?.warnings ?? epochs[epochs.length - 1]?.warnings ?? [];
  const classNames = state.info?.classNames ?? [];
  return (
    <div className="mode-views">
      <GanWarnings warnings={warnings} />
      {error && <p className="mode-error">{error}</p>}
      <div className="gan-row">
        <section className="mode-section" data-testid="gan-current">
          <h4 className="section-title">Generated now{state.info?.conditional ? ' (one column per class)' : ''}</h4>
          {view?.current.grid && <ModeImage image={view.current.grid} size={Math.min(560, view.current.grid.width * 2)} title="Samples from fixed noise" testId="gan-grid" />}
          {view?.current.points && <LatentScatter points={view.current.points} classNames={classNames} title="Generated points" testId="gan-points" />}
        </section>
        <section className="mode-section" data-testid="gan-epochs">
          <h4 className="section-title">Per epoch</h4>
          {epochs.length === 0 ? (
            <p className="panel-empty">A grid is kept at the end of every epoch ({state.stepsPerEpoch} steps).</p>
          ) : (
            <>
              <div className="epoch-picker" role="group" aria-label="Epoch">
                {epochs.map((e) => (
                  <button key={e.epoch} type="button" aria-pressed={shown?.epoch === e.epoch} onClick={() => setEpoch(e.epoch)} data-testid={`gan-epoch-${e.epoch}`}>
                    {e.epoch}
                  </button>
                ))}
              </div>
              {shown && (
                <div data-testid="gan-epoch-view">
                  {shown.grid && <ModeImage image={shown.grid} size={Math.min(420, shown.grid.width * 1.5)} title={`Epoch ${shown.epoch}`} testId="gan-epoch-grid" />}
                  <p className="mode-facts">
                    Epoch {shown.epoch}: discriminator loss {shown.dLoss.toFixed(3)}, generator loss {shown.gLoss.toFixed(3)}, discriminator accuracy {(shown.dAccuracy * 100).toFixed(0)}%, diversity {(shown.diversity * 100).toFixed(0)}% of the real data's
                  </p>
                </div>
              )}
            </>
          )}
        </section>
      </div>
      <LineChart title="Discriminator accuracy" series={accuracy} xLabel="epoch" yMin={0} yMax={1} xMin={0} height={140} testId="chart-gan-accuracy" empty="Train to see how often the discriminator is right" />
    </div>
  );
}
