/** The A2UI protocol versions envelopes may declare. */
export const A2UI_VERSIONS = ['v0.9', 'v0.9.1'] as const;
/** The version user actions carry when they go back to the agent that owns a surface. */
export const A2UI_ACTION_VERSION = 'v0.9';
/** The A2A extension under which agents exchange A2UI messages. */
export const A2UI_EXTENSION_URI = 'https://a2ui.org/a2a-extension/a2ui/v0.9.1';
/** The media type of A2UI payloads in A2A data parts. */
export const A2UI_MEDIA_TYPE = 'application/a2ui+json';

/** How a component property refers to other components of the same surface. */
export type RefKind =
  /** One component id. */
  | 'id'
  /** A static list of ids, or a template `{componentId, path}`. */
  | 'children'
  /** A list of objects each holding one `child` id (tabs). */
  | 'tabs';

/** What the daemon checks of one component type: the properties it must have and those that point at other components. */
export interface ComponentSpec {
  required: readonly string[];
  refs: Readonly<Record<string, RefKind>>;
}

export interface Catalog {
  /** The id `createSurface.catalogId` names; `aliases` name the same catalog. */
  id: string;
  aliases: readonly string[];
  components: Readonly<Record<string, ComponentSpec>>;
}

const leaf = (...required: string[]): ComponentSpec => ({ required, refs: {} });
const container: ComponentSpec = { required: ['children'], refs: { children: 'children' } };
const button: ComponentSpec = { required: ['child', 'action'], refs: { child: 'id' } };

/** The basic catalog of A2UI v0.9 (and v0.9.1, which publishes the same catalog id). */
export const BASIC_CATALOG: Catalog = {
  id: 'https://a2ui.org/specification/v0_9/catalogs/basic/catalog.json',
  // The flat `v0_9/basic_catalog.json` form is what the v0.9 drafts and most published examples name.
  aliases: ['https://a2ui.org/specification/v0_9_1/catalogs/basic/catalog.json', 'https://a2ui.org/specification/v0_9/basic_catalog.json'],
  components: {
    Text: leaf('text'),
    Image: leaf('url'),
    Icon: leaf('name'),
    Video: leaf('url'),
    AudioPlayer: leaf('url'),
    Row: container,
    Column: container,
    List: container,
    Card: { required: ['child'], refs: { child: 'id' } },
    Tabs: { required: ['tabs'], refs: { tabs: 'tabs' } },
    Modal: { required: ['trigger', 'content'], refs: { trigger: 'id', content: 'id' } },
    Divider: leaf(),
    Button: button,
    TextField: leaf('label'),
    CheckBox: leaf('label', 'value'),
    ChoicePicker: leaf('options', 'value'),
    Slider: leaf('max', 'value'),
    DateTimeInput: leaf('value'),
  },
};

/** The minimal catalog: five components, the same shapes as in the basic one. */
export const MINIMAL_CATALOG: Catalog = {
  id: 'https://a2ui.org/specification/v0_9/catalogs/minimal/catalog.json',
  aliases: ['https://a2ui.org/specification/v0_9_1/catalogs/minimal/catalog.json'],
  components: {
    Text: leaf('text'),
    Row: container,
    Column: container,
    Button: button,
    TextField: leaf('label'),
  },
};

export const CATALOGS: readonly Catalog[] = [BASIC_CATALOG, MINIMAL_CATALOG];

/** Every catalog id a surface may be created with (what the agent card advertises). */
export const SUPPORTED_CATALOG_IDS: readonly string[] = CATALOGS.flatMap((c) => [c.id, ...c.aliases]);

export function findCatalog(id: string): Catalog | undefined {
  return CATALOGS.find((c) => c.id === id || c.aliases.includes(id));
}
