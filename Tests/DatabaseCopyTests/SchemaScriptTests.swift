@testable import DatabaseCopy
import Testing

@Suite struct SchemaScriptTests {
    static let dump = """
        \\restrict abc123
        SET statement_timeout = 0;
        SELECT pg_catalog.set_config('search_path', '', false);

        --
        -- Name: t t_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
        --

        ALTER TABLE ONLY public.t
            ADD CONSTRAINT t_pkey PRIMARY KEY (id);

        --
        -- Name: t_v_idx; Type: INDEX; Schema: public; Owner: postgres
        --

        CREATE INDEX t_v_idx ON public.t USING btree (v);

        --
        -- Name: u u_t_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
        --

        ALTER TABLE ONLY public.u
            ADD CONSTRAINT u_t_fkey FOREIGN KEY (t_id) REFERENCES public.t(id);

        \\unrestrict abc123
        """

    @Test func dropsOnlyTheRestrictGuards() {
        let sql = SchemaScript.withoutRestrictGuards(Self.dump)
        #expect(!sql.contains("restrict"))
        #expect(sql.contains("ADD CONSTRAINT t_pkey"))
        let other = "\\restrict k1\nSELECT 1;\n\\unrestrict other\n"
        #expect(SchemaScript.withoutRestrictGuards(other).contains("\\unrestrict other"))
    }

    @Test func splitsIntoPreambleAndTypedEntries() {
        let (preamble, entries) = SchemaScript(dumped: Self.dump).entries
        #expect(preamble.contains("SET statement_timeout = 0;"))
        #expect(entries.map(\.type) == ["CONSTRAINT", "INDEX", "FK CONSTRAINT"])
        #expect(entries[1].sql.contains("CREATE INDEX t_v_idx"))
        #expect(!entries[1].sql.contains("FOREIGN KEY"))
    }

    @Test func aScriptWithoutHeadersIsOneEntry() {
        let (preamble, entries) = SchemaScript(dumped: "CREATE INDEX i ON t (x);").entries
        #expect(preamble.isEmpty)
        #expect(entries == [SchemaScript.Entry(type: "", sql: "CREATE INDEX i ON t (x);")])
    }

    @Test func findsTheExtensionsTheSchemaCreates() {
        let script = SchemaScript(dumped: "CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;\nCREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA public;\n")
        #expect(script.extensions == ["citext", "uuid-ossp"])
    }
}
