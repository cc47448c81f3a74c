// receiver/src/metrics.ts
// A small Prometheus registry: counters and gauges with labels, rendered in the text exposition format.

type Labels = Readonly<Record<string, string>>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${escapeLabelValue(labels[k] ?? '')}"`).join(',');
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

abstract class Metric {
  protected readonly _values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
  ) {}
  /** Current value for a label set (0 when never touched). */
  get(labels: Labels = {}): number {
    return this._values.get(labelKey(labels)) ?? 0;
  }
  /** Sum over every label set. */
  total(): number {
    let sum = 0;
    for (const v of this._values.values()) sum += v;
    return sum;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (this._values.size === 0 && this.type === 'counter') lines.push(`${this.name} 0`);
    for (const [key, value] of this._values) {
      lines.push(key === '' ? `${this.name} ${value}` : `${this.name}{${key}} ${value}`);
    }
    return lines.join('\n');
  }
}

export class Counter extends Metric {
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this._values.set(key, (this._values.get(key) ?? 0) + by);
  }
  /** Mirrors a monotonic total kept elsewhere (e.g. kernel counters read at scrape time). */
  setTotal(value: number, labels: Labels = {}): void {
    this._values.set(labelKey(labels), value);
  }
}

export class Gauge extends Metric {
  private _collect: (() => void) | undefined;
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }
  set(value: number, labels: Labels = {}): void {
    this._values.set(labelKey(labels), value);
  }
  /** A callback that refreshes the value just before each scrape. */
  onCollect(fn: () => void): this {
    this._collect = fn;
    return this;
  }
  collect(): void {
    this._collect?.();
  }
}

/** Holds every metric of one agent; not a global, so tests and benchmarks get their own. */
export class MetricsRegistry {
  private readonly _metrics = new Map<string, Metric>();
  counter(name: string, help: string): Counter {
    return this._register(name, () => new Counter(name, help), Counter);
  }
  gauge(name: string, help: string): Gauge {
    return this._register(name, () => new Gauge(name, help), Gauge);
  }
  /** Looks a metric up by name (tests). */
  find(name: string): Counter | Gauge | undefined {
    const metric = this._metrics.get(name);
    return metric instanceof Counter || metric instanceof Gauge ? metric : undefined;
  }
  render(): string {
    // Collect everything first: one collector may refresh several metrics.
    for (const m of this._metrics.values()) if (m instanceof Gauge) m.collect();
    return `${[...this._metrics.values()].map((m) => m.render()).join('\n')}\n`;
  }
  private _register<T extends Metric>(name: string, make: () => T, ctor: abstract new (...args: never[]) => T): T {
    const existing = this._metrics.get(name);
    if (existing !== undefined) {
      if (!(existing instanceof ctor)) throw new Error(`metric ${name} registered twice with different types`);
      return existing;
    }
    const metric = make();
    this._metrics.set(name, metric);
    return metric;
  }
}
