import type { Banner } from './run-state.ts';

/** A clear notice when a run diverges, fails or stops early, with the reason. */
export function RunBanner({ banner, onDismiss }: { banner: Banner; onDismiss: () => void }) {
  return (
    <div className={`run-banner run-banner-${banner.tone}`} role={banner.tone === 'error' ? 'alert' : 'status'} data-testid="run-banner" data-tone={banner.tone}>
      <strong>{banner.title}.</strong> <span data-testid="run-banner-message">{banner.message}</span>
      <button type="button" className="run-banner-close" aria-label="Dismiss" onClick={onDismiss}>
        ×
      </button>
    </div>
  );
}
