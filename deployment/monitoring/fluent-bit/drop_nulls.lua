-- Drop the fields whose value is JSON null before a record goes to Loki.
-- The app writes its context ids (correlation_id, user_id, workspace_id, run_id) as null
-- outside a request or run; Loki's structured metadata would otherwise get the text "null".
-- The filter runs with enable_flb_null, so a null arrives here as the `flb_null` sentinel.
function drop_nulls(tag, timestamp, record)
    local dropped = false
    for key, value in pairs(record) do
        if value == flb_null then
            record[key] = nil
            dropped = true
        end
    end
    if dropped then
        return 2, timestamp, record
    end
    return 0, timestamp, record
end
