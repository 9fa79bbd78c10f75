// The config file's schema, generated from the command specs: top-level keys for `global`
// options, one section per command for its `command` options, every key named as its flag.
import { z } from 'zod';
import type { CommandSpec, OptionSpec } from './types.ts';

/** Where each key of the file comes from, to explain problems in the user's terms. */
export interface ConfigLayout {
  global: Map<string, OptionSpec>;
  sections: Map<string, { spec: CommandSpec; options: Map<string, OptionSpec> }>;
}

export function configLayout(specs: readonly CommandSpec[]): ConfigLayout {
  const global = new Map<string, OptionSpec>();
  const sections: ConfigLayout['sections'] = new Map();
  for (const spec of specs) {
    const options = new Map<string, OptionSpec>();
    for (const o of spec.options) {
      if (o.config === 'global' && !global.has(o.name)) global.set(o.name, o);
      if (o.config === 'command') options.set(o.name, o);
    }
    if (options.size > 0) sections.set(spec.name, { spec, options });
  }
  return { global, sections };
}

export function optionSchema(o: OptionSpec): z.ZodType {
  const text = o.validate ? z.string().refine(o.validate) : z.string();
  switch (o.kind) {
    case 'string':
      return text;
    case 'boolean':
    case 'bool-string':
      return z.boolean();
    case 'int':
      return z
        .number()
        .int()
        .min(o.min ?? 0)
        .max(o.max ?? Number.MAX_SAFE_INTEGER);
    case 'enum':
      return z.enum((o.values ?? []) as [string, ...string[]]);
    case 'list':
      return z.array(text);
  }
}

export function configSchema(layout: ConfigLayout): z.ZodType<ConfigData> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, o] of layout.global) shape[name] = optionSchema(o).optional();
  for (const [name, section] of layout.sections) {
    const inner: Record<string, z.ZodType> = {};
    for (const [key, o] of section.options) inner[key] = optionSchema(o).optional();
    shape[name] = z.strictObject(inner).optional();
  }
  return z.strictObject(shape) as unknown as z.ZodType<ConfigData>;
}

/** A validated file: top-level keys and sections, values typed as the schema says. */
export type ConfigValue = string | number | boolean | string[];
export type ConfigData = Record<string, ConfigValue | Record<string, ConfigValue> | undefined>;
