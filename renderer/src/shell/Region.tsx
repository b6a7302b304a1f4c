import type { ReactNode } from 'react';
import { REGIONS, type RegionId } from './keyboard';

/** A focusable region of the operator layout, with its shortcut key shown in the header. */
export function Region({
  id,
  title,
  actions,
  children,
  className,
}: {
  id: RegionId;
  title: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  const key = REGIONS.find((r) => r.id === id)?.key;
  return (
    <section id={`region-${id}`} className={`region ${className ?? ''}`} tabIndex={-1} aria-labelledby={`region-${id}-title`}>
      <header className="region-header">
        <h2 id={`region-${id}-title`}>{title}</h2>
        {actions}
        {key && <kbd title={`Press ${key} to focus`}>{key}</kbd>}
      </header>
      <div className="region-body">{children}</div>
    </section>
  );
}
