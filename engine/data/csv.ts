/**
 * CSV import: delimiter and header detection, numeric and categorical columns (one-hot or
 * index), a chosen target column. Problems are reported with the file, line and column and
 * nothing is imported from a malformed file.
 */
import { checkDataset, type Dataset, DataError } from './dataset.ts';

export interface CsvTable {
  header: string[];
  /** Whether the first line was a header (otherwise `header` holds generated names). */
  hasHeader: boolean;
  rows: string[][];
  /** 1-based line number of each row in the file. */
  lines: number[];
  delimiter: string;
}

export interface CsvParseOptions {
  file?: string;
  /** Default: the most frequent of , ; and tab in the first line. */
  delimiter?: string;
  /** Default: detected (a first line of labels above numbers). */
  header?: boolean;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function isNumericCell(cell: string): boolean {
  return NUMBER.test(cell.trim());
}

/** Splits CSV text into records (RFC 4180 quoting, quoted newlines allowed). */
export function parseCsv(text: string, opts: CsvParseOptions = {}): CsvTable {
  const file = opts.file ?? 'CSV';
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim().length === 0) throw new DataError('the file is empty', { file });
  const firstLine = body.slice(0, body.search(/\r?\n|$/));
  const delimiter = opts.delimiter ?? [',', ';', '\t'].map((d) => [d, firstLine.split(d).length] as const).sort((a, b) => b[1] - a[1])[0][0];

  const records: string[][] = [];
  const lines: number[] = [];
  let line = 1;
  let i = 0;
  while (i < body.length) {
    const startLine = line;
    const record: string[] = [];
    let cell = '';
    let atEnd = false;
    while (!atEnd) {
      if (body[i] === '"' && cell.trim() === '') {
        // Quoted cell.
        cell = '';
        i++;
        for (;;) {
          if (i >= body.length) throw new DataError('a quoted cell is not closed', { file, line: startLine, column: record.length + 1 });
          const ch = body[i];
          if (ch === '"') {
            if (body[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          cell += ch;
          i++;
        }
        while (i < body.length && body[i] !== delimiter && body[i] !== '\n' && body[i] !== '\r') {
          if (body[i].trim() !== '') throw new DataError(`unexpected "${body[i]}" after a quoted cell`, { file, line, column: record.length + 1 });
          i++;
        }
      } else {
        while (i < body.length && body[i] !== delimiter && body[i] !== '\n' && body[i] !== '\r') cell += body[i++];
        cell = cell.trim();
      }
      record.push(cell);
      cell = '';
      if (i >= body.length) atEnd = true;
      else if (body[i] === delimiter) i++;
      else {
        if (body[i] === '\r') i++;
        if (body[i] === '\n') i++;
        line++;
        atEnd = true;
      }
    }
    // Blank lines are skipped.
    if (!(record.length === 1 && record[0] === '')) {
      records.push(record);
      lines.push(startLine);
    }
  }
  if (records.length === 0) throw new DataError('the file has no rows', { file });

  const first = records[0];
  let hasHeader = opts.header;
  if (hasHeader === undefined) {
    const rest = records.slice(1);
    const noNumbers = first.every((c) => !isNumericCell(c));
    const labelOverNumbers = first.some((c, col) => !isNumericCell(c) && rest.length > 0 && rest.every((r) => r[col] !== undefined && isNumericCell(r[col])));
    hasHeader = rest.length > 0 && (labelOverNumbers || (noNumbers && new Set(first).size === first.length && rest.some((r) => r.some(isNumericCell))));
  }
  const width = first.length;
  const header = hasHeader ? first.map((h, k) => h || `column ${k + 1}`) : Array.from({ length: width }, (_, k) => `column ${k + 1}`);
  const rows = hasHeader ? records.slice(1) : records;
  const rowLines = hasHeader ? lines.slice(1) : lines;
  if (rows.length === 0) throw new DataError('the file has a header but no data rows', { file, line: 2 });
  rows.forEach((r, k) => {
    if (r.length !== width) throw new DataError(`expected ${width} cells like the ${hasHeader ? 'header' : 'first row'}, found ${r.length}`, { file, line: rowLines[k] });
  });
  return { header, hasHeader, rows, lines: rowLines, delimiter };
}

export interface CsvImportOptions extends CsvParseOptions {
  /** Target column, by name or 0-based index; default the last column. */
  target?: string | number;
  /** Columns to leave out, by name or index. */
  ignore?: (string | number)[];
  /** How categorical input columns become numbers. */
  categorical?: 'onehot' | 'index';
  /** Default: classification when the target is text or has at most 20 distinct integers. */
  task?: 'classification' | 'regression';
}

interface ColumnInfo {
  name: string;
  index: number;
  numeric: boolean;
  categories: string[];
}

function columnIndex(table: CsvTable, ref: string | number, file: string): number {
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 0 || ref >= table.header.length) throw new DataError(`column index ${ref} is outside 0..${table.header.length - 1}`, { file });
    return ref;
  }
  const k = table.header.indexOf(ref);
  if (k < 0) throw new DataError(`no column named "${ref}"; the columns are: ${table.header.join(', ')}`, { file });
  return k;
}

function describeColumn(table: CsvTable, col: number, file: string): ColumnInfo {
  const name = table.header[col];
  let numeric = 0;
  let firstText = -1;
  let firstEmpty = -1;
  table.rows.forEach((r, k) => {
    const c = r[col];
    if (c === '') {
      if (firstEmpty < 0) firstEmpty = k;
    } else if (isNumericCell(c)) numeric++;
    else if (firstText < 0) firstText = k;
  });
  if (firstEmpty >= 0) throw new DataError(`empty cell in column "${name}"`, { file, line: table.lines[firstEmpty], column: col + 1 });
  const text = table.rows.length - numeric;
  if (text > 0 && numeric > text) {
    // Mostly numbers: a stray word is a mistake, not a category.
    throw new DataError(`"${table.rows[firstText][col]}" is not a number (column "${name}" holds numbers in ${numeric} of ${table.rows.length} rows)`, {
      file,
      line: table.lines[firstText],
      column: col + 1,
    });
  }
  const categories = text > 0 ? [...new Set(table.rows.map((r) => r[col]))].sort() : [];
  return { name, index: col, numeric: text === 0, categories };
}

/**
 * Imports a CSV file as a tabular dataset: numeric columns as they are, categorical ones
 * one-hot (or as an index), the target as a class index or a regression value.
 * Standardisation is a data setting, fitted on the training split only.
 */
export function importCsv(text: string, opts: CsvImportOptions = {}): Dataset {
  const file = opts.file ?? 'CSV';
  const table = parseCsv(text, opts);
  if (table.header.length < 2) throw new DataError(`needs at least two columns (inputs and a target), found ${table.header.length}`, { file });
  const targetCol = opts.target === undefined ? table.header.length - 1 : columnIndex(table, opts.target, file);
  const ignored = new Set((opts.ignore ?? []).map((r) => columnIndex(table, r, file)));
  if (ignored.has(targetCol)) throw new DataError(`column "${table.header[targetCol]}" cannot be both the target and ignored`, { file });
  const columns = table.header.map((_, k) => k).filter((k) => k !== targetCol && !ignored.has(k)).map((k) => describeColumn(table, k, file));
  if (columns.length === 0) throw new DataError('no input columns are left besides the target', { file });
  const target = describeColumn(table, targetCol, file);
  const categorical = opts.categorical ?? 'onehot';

  const featureNames: string[] = [];
  for (const c of columns) {
    if (c.numeric || categorical === 'index') featureNames.push(c.name);
    else for (const cat of c.categories) featureNames.push(`${c.name}=${cat}`);
  }
  const n = table.rows.length;
  const f = featureNames.length;
  const inputs = new Float32Array(n * f);
  table.rows.forEach((r, i) => {
    let o = i * f;
    for (const c of columns) {
      const cell = r[c.index];
      if (c.numeric) inputs[o++] = Number(cell);
      else if (categorical === 'index') inputs[o++] = c.categories.indexOf(cell);
      else {
        inputs[o + c.categories.indexOf(cell)] = 1;
        o += c.categories.length;
      }
    }
  });

  let task = opts.task;
  let classNames: string[] | undefined;
  if (task === undefined) {
    const distinct = new Set(table.rows.map((r) => r[targetCol]));
    const integers = target.numeric && table.rows.every((r) => Number.isInteger(Number(r[targetCol])));
    task = !target.numeric || (integers && distinct.size <= 20) ? 'classification' : 'regression';
  }
  let targets: Float32Array | Int32Array;
  if (task === 'classification') {
    classNames = target.numeric ? [...new Set(table.rows.map((r) => Number(r[targetCol])))].sort((a, b) => a - b).map(String) : target.categories;
    const index = new Map(classNames.map((c, k) => [c, k]));
    targets = Int32Array.from(table.rows, (r) => index.get(target.numeric ? String(Number(r[targetCol])) : r[targetCol])!);
    if (classNames.length < 2) throw new DataError(`the target column "${target.name}" has only one class ("${classNames[0]}")`, { file });
  } else {
    if (!target.numeric) throw new DataError(`the target column "${target.name}" holds text, so it cannot be a regression target`, { file });
    targets = Float32Array.from(table.rows, (r) => Number(r[targetCol]));
  }
  return checkDataset({
    meta: {
      id: 'csv',
      name: file,
      description: `${n} rows, ${columns.length} input columns, target "${target.name}"`,
      task,
      inputShape: [f],
      inputDtype: 'float32',
      targetShape: task === 'classification' ? [] : [1],
      targetDtype: task === 'classification' ? 'int32' : 'float32',
      numClasses: classNames?.length,
      classNames,
      featureNames,
      preview: 'rows',
    },
    length: n,
    inputs,
    targets,
  });
}
