/**
 * Reading a Prometheus scrape as a user's Prometheus would: the text parsed by
 * parse-prometheus-text-format (a parser of the text exposition format, not
 * prom-client's own objects), then samples looked up by name and labels.
 */
import parsePrometheusTextFormat from "parse-prometheus-text-format";

/** One metric family as the parser returns it (values are the text's numbers, as strings). */
export interface Family {
  name: string;
  help: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string> }[];
}

/** The families of one scrape, by name. */
export class Scrape {
  readonly families: ReadonlyMap<string, Family>;

  constructor(text: string) {
    const parsed = parsePrometheusTextFormat(text) as Family[];
    this.families = new Map(parsed.map((family) => [family.name, family]));
  }

  /** The value of `name`'s sample with exactly `labels` (none: the unlabelled one); throws naming what is missing. */
  value(name: string, labels: Record<string, string> = {}): number {
    const family = this.families.get(name);
    if (!family)
      throw new Error(`no metric ${name} in the scrape; got ${[...this.families.keys()].join(", ")}`);
    const wanted = JSON.stringify(Object.entries(labels).sort());
    const sample = family.metrics.find(
      (metric) => JSON.stringify(Object.entries(metric.labels ?? {}).sort()) === wanted,
    );
    if (sample?.value === undefined) {
      throw new Error(`no sample of ${name} with labels ${wanted}; got ${JSON.stringify(family.metrics)}`);
    }
    return Number(sample.value);
  }

  /** Every labelled value of `name` by the value of `label` (for "exactly these codes" assertions). */
  byLabel(name: string, label: string): Record<string, number> {
    const family = this.families.get(name);
    if (!family) throw new Error(`no metric ${name} in the scrape`);
    const values: Record<string, number> = {};
    for (const metric of family.metrics) values[metric.labels?.[label] ?? ""] = Number(metric.value);
    return values;
  }
}
