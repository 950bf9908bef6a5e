import { useTranslation } from 'react-i18next';

/**
 * A labelled `<select>` of named things of the site (rooms, residents) by id, with an empty first
 * choice: blank, or `placeholder` (e.g. "Choose…").
 */
export function NamedSelect(props: {
  label: string;
  value: string;
  onChange: (id: string) => void;
  options: readonly { id: string; name: string }[];
  placeholder?: string;
  required?: boolean;
  testId?: string;
}) {
  const { label, value, onChange, options, placeholder, required, testId } = props;
  return (
    <label className="field">
      <span>{label}</span>
      <select required={required} value={value} onChange={(event) => onChange(event.target.value)} data-testid={testId}>
        <option value="">{placeholder}</option>
        {options.map((option) => (
          <option key={option.id} value={option.id}>
            {option.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The resident a panel works on, from the site's residents; none until one is chosen. */
export function ResidentChoice(props: {
  residents: readonly { id: string; name: string }[];
  value: string;
  onChange: (residentId: string) => void;
  testId: string;
}) {
  const { t } = useTranslation();
  const { residents, value, onChange, testId } = props;
  return (
    <NamedSelect
      label={t('admin.resident')}
      placeholder={t('admin.choose')}
      value={value}
      onChange={onChange}
      options={residents}
      testId={testId}
    />
  );
}
