// An error said out loud (role="alert"): screen readers announce it when it appears.

export function ErrorBanner({ error, onDismiss }: { error: string | null; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <span>{error}</span>
      {onDismiss && (
        <button type="button" class="error__dismiss" onClick={onDismiss} aria-label="Dismiss the error">
          ×
        </button>
      )}
    </div>
  );
}
